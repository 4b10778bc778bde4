//! Criterion benchmarks of the hot kernels on R-VGG's layer shapes.
//!
//! Throughput units: in the `*_flop` groups criterion's "elements" are
//! floating-point operations (2 per multiply-add), so `Gelem/s` reads GFLOP/s;
//! in the `*_elem` groups they are input elements of the pooling layer.
//!
//! Run: `cargo bench -p eeglens-autodiff --bench kernels` (all threads of the
//! global rayon pool; `RAYON_NUM_THREADS=1` for one). `rvgg_conv_total_flop`
//! times a whole training step's convolutions (forward, backward-input except
//! for conv1 whose input needs no gradient, backward-weight with bias) in one
//! iteration; `gemm_flop` is the 1024^3 reference point on all threads and on one;
//! `linear_fc1_flop` times the three products of R-VGG's first classifier layer.
//! `conv2d_forward_bf16_flop` is the inference forward in bf16 (AVX512_BF16;
//! the fp32 forward on CPUs without it).
//!
//! On a shared machine wall time measures the neighbours too. With
//! `EEGLENS_BENCH_CPU_TIME=1` the same benches are timed in CPU time summed
//! over the process's threads (Linux `/proc/self/task/*/schedstat`, in ns):
//! throughput then reads GFLOP per CPU-second, i.e. per-core efficiency, which
//! time-slicing by other processes does not dilute.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput};
use eeglens_autodiff::kernels::{self, Conv2dGeom, Pool2dGeom};
use eeglens_autodiff::Rng;

/// Training batch size of the paper's R-VGG.
const BATCH: usize = 40;

/// One 3x3, stride 1, padding 1 convolution of R-VGG: name, c_in, c_out, h, w.
struct ConvLayer {
    name: &'static str,
    c_in: usize,
    c_out: usize,
    h: usize,
    w: usize,
}

/// R-VGG's convolutions on a 1x24x256 input (three blocks, 2x2 pools between).
const RVGG_CONVS: [ConvLayer; 7] = [
    ConvLayer { name: "conv1_1to16_24x256", c_in: 1, c_out: 16, h: 24, w: 256 },
    ConvLayer { name: "conv2_16to16_24x256", c_in: 16, c_out: 16, h: 24, w: 256 },
    ConvLayer { name: "conv3_16to32_12x128", c_in: 16, c_out: 32, h: 12, w: 128 },
    ConvLayer { name: "conv4_32to32_12x128", c_in: 32, c_out: 32, h: 12, w: 128 },
    ConvLayer { name: "conv5_32to64_6x64", c_in: 32, c_out: 64, h: 6, w: 64 },
    ConvLayer { name: "conv6_64to64_6x64", c_in: 64, c_out: 64, h: 6, w: 64 },
    ConvLayer { name: "conv7_64to64_6x64", c_in: 64, c_out: 64, h: 6, w: 64 },
];

/// R-VGG's 2x2, stride 2 max pools: name, channels, input h, input w.
const RVGG_POOLS: [(&str, usize, usize, usize); 3] =
    [("pool1_16x24x256", 16, 24, 256), ("pool2_32x12x128", 32, 12, 128), ("pool3_64x6x64", 64, 6, 64)];

fn conv_geom(l: &ConvLayer, n: usize) -> Conv2dGeom {
    Conv2dGeom {
        n,
        c_in: l.c_in,
        h: l.h,
        w: l.w,
        c_out: l.c_out,
        k_h: 3,
        k_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_h: 1,
        pad_w: 1,
        groups: 1,
    }
}

fn random(rng: &mut Rng, len: usize) -> Vec<f32> {
    (0..len).map(|_| 2.0 * rng.uniform_f32() - 1.0).collect()
}

/// Buffers of one conv layer at batch [`BATCH`].
struct ConvBufs {
    g: Conv2dGeom,
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
    y: Vec<f32>,
    gy: Vec<f32>,
    gx: Vec<f32>,
    gw: Vec<f32>,
    gb: Vec<f32>,
    scratch: Vec<f32>,
    /// `w` converted once to bf16 pairs
    wb: kernels::ConvWeightsBf16,
}

impl ConvBufs {
    fn new(l: &ConvLayer, rng: &mut Rng) -> Self {
        let g = conv_geom(l, BATCH);
        // Drawn in the order of the fields, as before the bf16 weights existed.
        let x = random(rng, g.x_len());
        let w = random(rng, g.w_len());
        let wb = kernels::ConvWeightsBf16::pack([g.c_out, g.c_in, g.k_h, g.k_w], &w);
        Self {
            x,
            w,
            b: random(rng, g.c_out),
            y: vec![0.0; g.y_len()],
            gy: random(rng, g.y_len()),
            gx: vec![0.0; g.x_len()],
            gw: vec![0.0; g.w_len()],
            gb: vec![0.0; g.c_out],
            scratch: vec![0.0; g.scratch_len()],
            wb,
            g,
        }
    }

    /// Inference in bf16 (fp32 where the CPU has no AVX512_BF16).
    fn forward_bf16(&mut self) {
        let (g, b) = (&self.g, Some(&self.b[..]));
        kernels::conv2d_forward_bf16(g, &self.x, &self.w, &self.wb, b, &mut self.y, &mut self.scratch, false);
    }

    fn forward(&mut self) {
        kernels::conv2d_forward(&self.g, &self.x, &self.w, Some(&self.b), &mut self.y, &mut self.scratch);
    }

    fn backward_input(&mut self) {
        kernels::conv2d_backward_input(&self.g, &self.gy, &self.w, &mut self.gx, &mut self.scratch);
    }

    fn backward_weight(&mut self) {
        kernels::conv2d_backward_weight(
            &self.g,
            &self.x,
            &self.gy,
            &mut self.gw,
            Some(&mut self.gb),
            &mut self.scratch,
        );
    }
}

fn bench_conv<M: Measurement>(c: &mut Criterion<M>) {
    let mut rng = Rng::new(0);
    let mut layers: Vec<ConvBufs> = RVGG_CONVS.iter().map(|l| ConvBufs::new(l, &mut rng)).collect();
    type Pass = fn(&mut ConvBufs);
    let passes: [(&str, Pass); 4] = [
        ("conv2d_forward_flop", ConvBufs::forward),
        ("conv2d_forward_bf16_flop", ConvBufs::forward_bf16),
        ("conv2d_backward_input_flop", ConvBufs::backward_input),
        ("conv2d_backward_weight_flop", ConvBufs::backward_weight),
    ];
    for (group_name, pass) in passes {
        let mut group = c.benchmark_group(group_name);
        for (l, bufs) in RVGG_CONVS.iter().zip(layers.iter_mut()) {
            group.throughput(Throughput::Elements(bufs.g.forward_flops()));
            group.bench_function(BenchmarkId::new(l.name, format!("batch{BATCH}")), |bch| {
                bch.iter(|| {
                    pass(bufs);
                    black_box(&bufs.y);
                })
            });
        }
        group.finish();
    }

    // A training step's convolutions in one iteration.
    let total: u64 =
        layers.iter().enumerate().map(|(i, l)| l.g.forward_flops() * if i == 0 { 2 } else { 3 }).sum();
    let mut group = c.benchmark_group("rvgg_conv_total_flop");
    group.throughput(Throughput::Elements(total));
    group.bench_function(BenchmarkId::new("fwd_bwd_all_layers", format!("batch{BATCH}")), |bch| {
        bch.iter(|| {
            for l in layers.iter_mut() {
                l.forward();
            }
            for (i, l) in layers.iter_mut().enumerate().rev() {
                l.backward_weight();
                if i > 0 {
                    l.backward_input();
                }
            }
            black_box(&layers[0].gw);
        })
    });
    group.finish();
}

fn bench_gemm<M: Measurement>(c: &mut Criterion<M>) {
    const N: usize = 1024;
    let mut rng = Rng::new(1);
    let a = random(&mut rng, N * N);
    let b = random(&mut rng, N * N);
    let mut out = vec![0.0f32; N * N];
    let mut group = c.benchmark_group("gemm_flop");
    group.throughput(Throughput::Elements(2 * (N * N * N) as u64));
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("one-thread pool");
    group.bench_function(BenchmarkId::new("1024x1024x1024", "all_threads"), |bch| {
        bch.iter(|| kernels::gemm(N, N, N, 1.0, &a, false, &b, false, 0.0, black_box(&mut out)))
    });
    group.bench_function(BenchmarkId::new("1024x1024x1024", "1_thread"), |bch| {
        bch.iter(|| {
            one.install(|| kernels::gemm(N, N, N, 1.0, &a, false, &b, false, 0.0, black_box(&mut out)))
        })
    });
    group.finish();
}

/// R-VGG's first classifier layer (6144 -> 1024, batch 40): its three
/// products, as `ops::linear` and its backward call them.
fn bench_linear<M: Measurement>(c: &mut Criterion<M>) {
    const IN: usize = 6144;
    const OUT: usize = 1024;
    let mut rng = Rng::new(3);
    let x = random(&mut rng, BATCH * IN);
    let w = random(&mut rng, OUT * IN);
    let gy = random(&mut rng, BATCH * OUT);
    let mut y = vec![0.0f32; BATCH * OUT];
    let mut gx = vec![0.0f32; BATCH * IN];
    let mut gw = vec![0.0f32; OUT * IN];
    let mut group = c.benchmark_group("linear_fc1_flop");
    group.throughput(Throughput::Elements(2 * (BATCH * IN * OUT) as u64));
    let id = |what: &str| BenchmarkId::new(what, format!("batch{BATCH}"));
    group.bench_function(id("forward_x_wT"), |bch| {
        bch.iter(|| kernels::gemm(BATCH, IN, OUT, 1.0, &x, false, &w, true, 0.0, black_box(&mut y)))
    });
    group.bench_function(id("input_grad_gy_w"), |bch| {
        bch.iter(|| kernels::gemm(BATCH, OUT, IN, 1.0, &gy, false, &w, false, 0.0, black_box(&mut gx)))
    });
    group.bench_function(id("weight_grad_gyT_x"), |bch| {
        bch.iter(|| kernels::gemm(OUT, BATCH, IN, 1.0, &gy, true, &x, false, 0.0, black_box(&mut gw)))
    });
    group.finish();
}

fn bench_pool<M: Measurement>(c: &mut Criterion<M>) {
    let mut rng = Rng::new(2);
    let mut fwd = c.benchmark_group("max_pool2d_forward_elem");
    let shapes: Vec<(Pool2dGeom, Vec<f32>)> = RVGG_POOLS
        .iter()
        .map(|&(_, ch, h, w)| {
            let g = Pool2dGeom { n: BATCH, c: ch, h, w, k_h: 2, k_w: 2, stride_h: 2, stride_w: 2 };
            let x = random(&mut rng, g.x_len());
            (g, x)
        })
        .collect();
    for ((name, ..), (g, x)) in RVGG_POOLS.iter().zip(&shapes) {
        let (mut y, mut sw) = (vec![0.0; g.y_len()], vec![0u32; g.y_len()]);
        fwd.throughput(Throughput::Elements(g.x_len() as u64));
        fwd.bench_function(BenchmarkId::new(*name, format!("batch{BATCH}")), |bch| {
            bch.iter(|| kernels::max_pool2d_forward(g, x, black_box(&mut y), &mut sw))
        });
    }
    fwd.finish();
    let mut bwd = c.benchmark_group("max_pool2d_backward_elem");
    for ((name, ..), (g, x)) in RVGG_POOLS.iter().zip(&shapes) {
        let (mut y, mut sw) = (vec![0.0; g.y_len()], vec![0u32; g.y_len()]);
        kernels::max_pool2d_forward(g, x, &mut y, &mut sw);
        let gy = random(&mut rng, g.y_len());
        let mut gx = vec![0.0; g.x_len()];
        bwd.throughput(Throughput::Elements(g.x_len() as u64));
        bwd.bench_function(BenchmarkId::new(*name, format!("batch{BATCH}")), |bch| {
            bch.iter(|| kernels::max_pool2d_backward(g, &gy, &sw, black_box(&mut gx)))
        });
    }
    bwd.finish();
}

/// CPU time of every thread of this process, in nanoseconds.
struct CpuTime;

impl CpuTime {
    fn now() -> u64 {
        let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task (Linux only)");
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        Self::now()
    }
    fn end(&self, start: u64) -> u64 {
        Self::now().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, as for wall time.
        WallTime.formatter()
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn main() {
    if std::env::var_os("EEGLENS_BENCH_CPU_TIME").is_some() {
        let mut c = config().with_measurement(CpuTime).configure_from_args();
        bench_conv(&mut c);
        bench_gemm(&mut c);
        bench_linear(&mut c);
        bench_pool(&mut c);
        c.final_summary();
    } else {
        let mut c = config().configure_from_args();
        bench_conv(&mut c);
        bench_gemm(&mut c);
        bench_linear(&mut c);
        bench_pool(&mut c);
        c.final_summary();
    }
}
