//! Read throughput: a 24-channel, 10-minute, 500 Hz recording as EDF and as BDF, whole-file
//! reads into µV, plus a one-channel, ten-second subset read.
//!
//! The files are written once to `<tmp>/eeglens-io-bench/` (kept, so that
//! `tools/golden/io_bench_mne.py` can time MNE-Python on the very same files). Throughput is in
//! bytes of the file per second.

use std::path::PathBuf;

use criterion::{criterion_group, Criterion, Throughput};
use eeglens_io::{
    read, read_with, write_edf, Channel, ChannelType, EdfWriteOptions, Format, ReadOptions, Recording,
};

const N_CHANNELS: usize = 24;
const FS: f64 = 500.0;
const SECONDS: usize = 600;

fn bench_files() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join("eeglens-io-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let edf = dir.join("rec24x10min.edf");
    let bdf = dir.join("rec24x10min.bdf");
    if !edf.exists() || !bdf.exists() {
        let mut rec = Recording::new(Format::EdfPlusC);
        let n = SECONDS * FS as usize;
        for c in 0..N_CHANNELS {
            let f = 1.0 + c as f32 * 0.7;
            let data: Vec<f32> = (0..n)
                .map(|i| {
                    let t = i as f32 / FS as f32;
                    40.0 * (std::f32::consts::TAU * f * t).sin()
                        + 5.0 * ((i * 7919 + c * 31) % 97) as f32 / 97.0
                })
                .collect();
            rec.push_channel(Channel::new(format!("EEG{c:02}"), ChannelType::Eeg, FS), data);
        }
        write_edf(&edf, &rec, &EdfWriteOptions::default()).expect("write edf");
        write_edf(&bdf, &rec, &EdfWriteOptions::bdf_plus()).expect("write bdf");
    }
    (edf, bdf)
}

/// The value the bench file holds at sample `i` of channel `c` (before quantisation).
fn expected(c: usize, i: usize) -> f32 {
    let f = 1.0 + c as f32 * 0.7;
    let t = i as f32 / FS as f32;
    40.0 * (std::f32::consts::TAU * f * t).sin() + 5.0 * ((i * 7919 + c * 31) % 97) as f32 / 97.0
}

fn bench_read(c: &mut Criterion) {
    let (edf, bdf) = bench_files();
    let mut g = c.benchmark_group("read");
    g.sample_size(20);
    for (name, path) in [("edf_24ch_10min_500hz", &edf), ("bdf_24ch_10min_500hz", &bdf)] {
        let bytes = std::fs::metadata(path).expect("file").len();
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(name, |b| b.iter(|| read(path).expect("read")));
    }
    let opts = ReadOptions {
        channels: Some(vec!["EEG05".into()]),
        start_s: 300.0,
        duration_s: Some(10.0),
        header_only: false,
    };
    g.throughput(Throughput::Elements(5000));
    g.bench_function("edf_subset_1ch_10s", |b| b.iter(|| read_with(&edf, &opts).expect("read")));
    g.finish();
}

/// `EEGLENS_IO_BEST_OF=N cargo bench -p eeglens-io --bench read`: print the best of N whole-file
/// reads per file (robust to a busy machine; what tools/golden/io_bench_mne.py prints for MNE)
/// instead of running criterion.
fn best_of(n: usize) {
    let (edf, bdf) = bench_files();
    for path in [&edf, &bdf] {
        let bytes = std::fs::metadata(path).expect("file").len() as f64;
        let mut best = f64::INFINITY;
        for _ in 0..n {
            let t = std::time::Instant::now();
            let rec = read(path).expect("read");
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!(rec.data.len(), N_CHANNELS);
            assert!(rec.data.iter().all(|d| d.len() == SECONDS * FS as usize));
        }
        // Every sample within a quantisation step (16-bit over ~90 µV) of what was written.
        let rec = read(path).expect("read");
        for (c, d) in rec.data.iter().enumerate() {
            for (i, &x) in d.iter().enumerate() {
                assert!(
                    (x - expected(c, i)).abs() < 0.01,
                    "channel {c} sample {i}: {x} vs {}",
                    expected(c, i)
                );
            }
        }
        println!(
            "{}: eeglens-io best of {n}: {:.1} ms, {:.1} MiB/s",
            path.file_name().expect("name").to_string_lossy(),
            best * 1e3,
            bytes / best / (1u64 << 20) as f64
        );
    }
}

criterion_group!(benches, bench_read);

fn main() {
    if let Some(n) = std::env::var("EEGLENS_IO_BEST_OF").ok().and_then(|v| v.parse().ok()) {
        best_of(n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
