//! Geometry of the convolution and pooling kernels: small `Copy` structs that
//! say how big every buffer is.

/// Budget, in `f32`s, of one im2col tile: 512 KiB, so a tile written by
/// im2col is still in L2 when sgemm packs it.
pub(crate) const COLS_TILE_FLOATS: usize = 1 << 17;
/// Output floats per tile in the padded (im2col-free) layout: 128 KiB.
pub(crate) const PADDED_TILE_FLOATS: usize = 1 << 15;

/// Geometry of a 2-D convolution over an NCHW batch.
///
/// Input `[n, c_in, h, w]`, weight `[c_out, c_in / groups, k_h, k_w]`,
/// output `[n, c_out, h_out, w_out]`; zero padding, dilation 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dGeom {
    /// batch size
    pub n: usize,
    /// input channels
    pub c_in: usize,
    /// input height
    pub h: usize,
    /// input width
    pub w: usize,
    /// output channels
    pub c_out: usize,
    /// kernel height
    pub k_h: usize,
    /// kernel width
    pub k_w: usize,
    /// vertical stride
    pub stride_h: usize,
    /// horizontal stride
    pub stride_w: usize,
    /// zero rows added above and below
    pub pad_h: usize,
    /// zero columns added left and right
    pub pad_w: usize,
    /// channel groups (1: dense, `c_in`: depthwise)
    pub groups: usize,
}

impl Conv2dGeom {
    /// Output height.
    pub fn h_out(&self) -> usize {
        (self.h + 2 * self.pad_h - self.k_h) / self.stride_h + 1
    }

    /// Output width.
    pub fn w_out(&self) -> usize {
        (self.w + 2 * self.pad_w - self.k_w) / self.stride_w + 1
    }

    /// Checks that the geometry is valid: positive sizes and strides, the
    /// padded input at least as large as the kernel, channels divisible by `groups`.
    pub fn validate(&self) -> Result<(), String> {
        let g = self;
        if g.n == 0 || g.c_in == 0 || g.h == 0 || g.w == 0 || g.c_out == 0 || g.k_h == 0 || g.k_w == 0 {
            return Err(format!("zero-sized dimension in {g:?}"));
        }
        if g.stride_h == 0 || g.stride_w == 0 {
            return Err(format!("stride must be positive, got ({}, {})", g.stride_h, g.stride_w));
        }
        if g.groups == 0 || g.c_in % g.groups != 0 || g.c_out % g.groups != 0 {
            return Err(format!(
                "groups = {} must divide c_in = {} and c_out = {}",
                g.groups, g.c_in, g.c_out
            ));
        }
        if g.h + 2 * g.pad_h < g.k_h || g.w + 2 * g.pad_w < g.k_w {
            return Err(format!(
                "kernel {}x{} larger than padded input {}x{}",
                g.k_h,
                g.k_w,
                g.h + 2 * g.pad_h,
                g.w + 2 * g.pad_w
            ));
        }
        Ok(())
    }

    /// Input elements `n * c_in * h * w`.
    pub fn x_len(&self) -> usize {
        self.n * self.c_in * self.h * self.w
    }

    /// Weight elements `c_out * (c_in / groups) * k_h * k_w`.
    pub fn w_len(&self) -> usize {
        self.c_out * (self.c_in / self.groups) * self.k_h * self.k_w
    }

    /// Output elements `n * c_out * h_out * w_out`.
    pub fn y_len(&self) -> usize {
        self.n * self.c_out * self.h_out() * self.w_out()
    }

    /// Output rows per im2col tile: as many as keep one tile of the column
    /// matrix (`c_in * k_h * k_w` rows by `rows * w_out` columns) within
    /// 2^17 `f32`s (512 KiB, so im2col output is still in L2 when sgemm packs
    /// it), at least one, at most `h_out`.
    pub fn tile_rows(&self) -> usize {
        let per_row = self.c_in * self.k_h * self.k_w * self.w_out();
        (COLS_TILE_FLOATS / per_row.max(1)).clamp(1, self.h_out())
    }

    /// Elements of one im2col tile: `(c_in * k_h * k_w) x (tile_rows * w_out)`.
    pub fn cols_tile_len(&self) -> usize {
        self.c_in * self.k_h * self.k_w * self.tile_rows() * self.w_out()
    }

    /// Whether the input gradient is computed as a forward convolution of
    /// `gy` with the flipped, transposed kernel: stride 1, padding smaller
    /// than the kernel (the "full" padding `k - 1 - pad` is then valid), and
    /// at least 8 input channels per group (they become the rows of that
    /// convolution's GEMM; with fewer, e.g. a first layer on one EEG
    /// "image" channel, GEMM + col2im is faster: measured 5x at 1 channel).
    pub fn backward_input_as_conv(&self) -> bool {
        self.stride_h == 1
            && self.stride_w == 1
            && self.pad_h < self.k_h
            && self.pad_w < self.k_w
            && self.c_in / self.groups >= 8
    }

    /// The geometry of the input gradient as a forward convolution (see
    /// [`Self::backward_input_as_conv`]): `gy` in, `gx` out, channels swapped,
    /// padding `k - 1 - pad`.
    pub fn transposed(&self) -> Conv2dGeom {
        Conv2dGeom {
            c_in: self.c_out,
            h: self.h_out(),
            w: self.w_out(),
            c_out: self.c_in,
            pad_h: self.k_h - 1 - self.pad_h,
            pad_w: self.k_w - 1 - self.pad_w,
            ..*self
        }
    }

    /// Scratch one worker of the conv kernels needs: an im2col tile (of this
    /// geometry, or of [`Self::transposed`] for the input gradient) plus room
    /// for a weight-sized and a bias-sized buffer (the private gradient
    /// accumulators of `conv2d_backward_weight`, the flipped kernel of
    /// `conv2d_backward_input`). It is also the least scratch any conv kernel accepts.
    pub fn scratch_per_worker(&self) -> usize {
        let tile = if self.backward_input_as_conv() {
            let t = self.transposed();
            self.cols_tile_len().max(t.cols_tile_len()).max(self.padded_scratch()).max(t.padded_scratch())
        } else {
            self.cols_tile_len().max(self.padded_scratch())
        };
        // The im2col tile plus the transposed output-gradient tile of
        // `conv2d_backward_weight` on AVX-512.
        let tile = tile.max(self.cols_tile_len() + self.c_out * self.tile_rows() * self.w_out());
        tile + self.w_len() + self.c_out
    }

    /// Padded width and height of a sample, `(w + 2 pad_w, h + 2 pad_h)`
    /// (the im2col-free layout of stride-1 convolutions on AVX-512).
    pub fn padded_dims(&self) -> (usize, usize) {
        (self.w + 2 * self.pad_w, self.h + 2 * self.pad_h)
    }

    /// Output rows per tile in the padded layout: an output tile of about
    /// 32 Ki `f32` (`c_out` rows of `tile_rows * (w + 2 pad_w)`).
    pub fn padded_tile_rows(&self) -> usize {
        let per_row = self.c_out * self.padded_dims().0;
        (PADDED_TILE_FLOATS / per_row.max(1)).clamp(1, self.h_out().max(1))
    }

    /// Scratch of one worker in the padded layout: the padded sample (plus
    /// `k_w` slack) and one output (or output-gradient) tile.
    pub fn padded_scratch(&self) -> usize {
        let (wp, hp) = self.padded_dims();
        self.c_in * hp * wp + self.k_w + self.c_out * self.padded_tile_rows() * wp
    }

    /// `f32`s of scratch the caller must pass to `conv2d_forward`,
    /// `conv2d_backward_input` and `conv2d_backward_weight`:
    /// `min(n, threads) * scratch_per_worker()`.
    ///
    /// `threads` is `rayon::current_num_threads()` read at the moment of this
    /// call, so call it from inside the pool (`ThreadPool::install`) that will
    /// run the kernels. A kernel handed less (but at least
    /// [`Self::scratch_per_worker`]) runs on fewer workers; one handed more
    /// uses only what it needs. The contents need no initialisation and are
    /// garbage afterwards.
    pub fn scratch_len(&self) -> usize {
        let workers = self.n.min(super::par::threads()).max(1);
        workers * self.scratch_per_worker()
    }

    /// Multiply-adds of the forward pass times two.
    pub fn forward_flops(&self) -> u64 {
        2 * (self.y_len() as u64) * ((self.c_in / self.groups) * self.k_h * self.k_w) as u64
    }
}

/// Geometry of a 2-D pooling window over an NCHW batch (no padding; windows
/// that do not fit are dropped, PyTorch's floor mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dGeom {
    /// batch size
    pub n: usize,
    /// channels
    pub c: usize,
    /// input height
    pub h: usize,
    /// input width
    pub w: usize,
    /// window height
    pub k_h: usize,
    /// window width
    pub k_w: usize,
    /// vertical stride
    pub stride_h: usize,
    /// horizontal stride
    pub stride_w: usize,
}

impl Pool2dGeom {
    /// Output height.
    pub fn h_out(&self) -> usize {
        (self.h - self.k_h) / self.stride_h + 1
    }

    /// Output width.
    pub fn w_out(&self) -> usize {
        (self.w - self.k_w) / self.stride_w + 1
    }

    /// Checks sizes: positive, window not larger than the input.
    pub fn validate(&self) -> Result<(), String> {
        let g = self;
        if g.n == 0 || g.c == 0 || g.h == 0 || g.w == 0 || g.k_h == 0 || g.k_w == 0 {
            return Err(format!("zero-sized dimension in {g:?}"));
        }
        if g.stride_h == 0 || g.stride_w == 0 {
            return Err(format!("stride must be positive, got ({}, {})", g.stride_h, g.stride_w));
        }
        if g.k_h > g.h || g.k_w > g.w {
            return Err(format!("window {}x{} larger than input {}x{}", g.k_h, g.k_w, g.h, g.w));
        }
        Ok(())
    }

    /// Input elements.
    pub fn x_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    /// Output elements.
    pub fn y_len(&self) -> usize {
        self.n * self.c * self.h_out() * self.w_out()
    }
}
