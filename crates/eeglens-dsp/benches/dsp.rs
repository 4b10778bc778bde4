//! DSP throughput: the data-preparation chain (band-pass 0.25–25 Hz + resample 500 -> 128 Hz)
//! on 24 channels x 10 minutes, and Welch PSD of one 24 x 256 epoch.
//!
//! Throughput is reported in bytes of `f32` input per second.
//! Run: `cargo bench -p eeglens-dsp --bench dsp`; the peer numbers come from
//! `python3 tools/golden/dsp_peers.py` (SciPy/MNE on the same sizes).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use eeglens_dsp::{butter, map_channels, FilterKind, FirFilter, FirSpec, Resampler, Welch, WelchConfig};
use std::hint::black_box;

const N_CHANNELS: usize = 24;
const FS_IN: usize = 500;
const FS_OUT: usize = 128;
const RECORDING_S: usize = 600;
const EPOCH_SAMPLES: usize = 256;

/// Deterministic EEG-like test data: a few sines plus a linear-congruential noise floor.
fn channels(n_channels: usize, n_samples: usize, fs: f64) -> Vec<Vec<f32>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..n_channels)
        .map(|c| {
            (0..n_samples)
                .map(|n| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let noise = ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
                    let t = n as f64 / fs;
                    let rhythm = (2.0 * std::f64::consts::PI * (6.0 + c as f64 * 0.1) * t).sin() * 20.0;
                    rhythm as f32 + 10.0 * noise + 0.001 * n as f32
                })
                .collect()
        })
        .collect()
}

fn filter_resample(c: &mut Criterion) {
    let data = channels(N_CHANNELS, FS_IN * RECORDING_S, FS_IN as f64);
    let bytes = (N_CHANNELS * FS_IN * RECORDING_S * std::mem::size_of::<f32>()) as u64;
    let band_pass = butter(4, FilterKind::BandPass(0.25, 25.0), FS_IN as f64).expect("valid design");
    let fir = FirFilter::design(FS_IN as f64, FirSpec::band_pass(0.25, 25.0)).expect("valid design");
    let resampler = Resampler::from_rates(FS_IN, FS_OUT).expect("valid factors");

    let mut group = c.benchmark_group("prepare_24ch_10min_500hz");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("butter4_filtfilt_0.25-25", |b| {
        b.iter(|| band_pass.filtfilt_channels(black_box(&data)).expect("valid"))
    });
    group.bench_function("resample_500_to_128", |b| {
        b.iter(|| resampler.process_channels(black_box(&data)).expect("valid"))
    });
    group.bench_function("butter4_filtfilt+resample", |b| {
        b.iter(|| {
            resampler
                .process_channels(&band_pass.filtfilt_channels(black_box(&data)).expect("valid"))
                .expect("valid")
        })
    });
    group.bench_function("mne_fir_0.25-25", |b| {
        b.iter(|| map_channels(black_box(&data), |ch| fir.filter_zero_phase(ch)).expect("valid"))
    });
    group.bench_function("mne_fir_0.25-25+resample", |b| {
        b.iter(|| {
            let filtered = map_channels(black_box(&data), |ch| fir.filter_zero_phase(ch)).expect("valid");
            resampler.process_channels(&filtered).expect("valid")
        })
    });
    group.finish();
}

fn welch_epoch(c: &mut Criterion) {
    let epoch = channels(N_CHANNELS, EPOCH_SAMPLES, FS_OUT as f64);
    let welch = Welch::new(FS_OUT as f64, WelchConfig::default()).expect("valid config");
    let mut group = c.benchmark_group("welch_24x256");
    group.throughput(Throughput::Bytes((N_CHANNELS * EPOCH_SAMPLES * std::mem::size_of::<f32>()) as u64));
    group.bench_function("nperseg256_serial", |b| {
        b.iter_batched(
            || vec![0.0f64; EPOCH_SAMPLES / 2 + 1],
            |mut out| {
                for ch in black_box(&epoch) {
                    welch.psd_into(ch, &mut out).expect("valid");
                }
                out
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, filter_resample, welch_epoch);
criterion_main!(benches);
