//! The [`Tensor`]: a contiguous, row-major `f32` buffer with a shape.

use crate::error::AutodiffError;
use crate::pool;

/// A contiguous, row-major (C order) `f32` array with a shape.
///
/// Images are NCHW: `[batch, channels, height, width]`. EEG windows enter the
/// networks as `[batch, 1, n_channels, n_samples]`.
///
/// A tensor's buffer comes from, and returns to, the engine's buffer
/// [`pool`](mod@crate::pool) when it is large, so a loop that builds the same
/// tensors every step reuses memory it has already touched.
#[derive(Debug, PartialEq, Default)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Clone for Tensor {
    fn clone(&self) -> Self {
        let mut data = pool::with_capacity(self.data.len());
        data.extend_from_slice(&self.data);
        Self { shape: self.shape.clone(), data }
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, 0.0)
    }

    /// A tensor filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Self {
        let len = shape.iter().product();
        let mut data = pool::with_capacity(len);
        data.resize(len, value);
        Self { shape: shape.to_vec(), data }
    }

    /// A scalar, stored with shape `[1]` (as PyTorch losses are stored in the goldens).
    pub fn scalar(value: f32) -> Self {
        Self { shape: vec![1], data: vec![value] }
    }

    /// Wraps `data` with `shape`.
    ///
    /// # Errors
    /// [`AutodiffError::DataLength`] when `data.len()` is not the product of `shape`.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Self, AutodiffError> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(AutodiffError::DataLength { shape: shape.to_vec(), len: data.len() });
        }
        Ok(Self { shape: shape.to_vec(), data })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The elements in row-major order, mutable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the tensor, returning its elements.
    pub fn into_vec(mut self) -> Vec<f32> {
        std::mem::take(&mut self.data)
    }

    /// The same elements with another shape.
    ///
    /// # Errors
    /// [`AutodiffError::Reshape`] when the element counts differ.
    pub fn reshape(mut self, shape: &[usize]) -> Result<Self, AutodiffError> {
        let expected: usize = shape.iter().product();
        if expected != self.data.len() {
            return Err(AutodiffError::Reshape { from: self.shape.clone(), to: shape.to_vec() });
        }
        self.shape = shape.to_vec();
        Ok(self)
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// When the tensor does not hold exactly one element.
    pub fn item(&self) -> f32 {
        assert_eq!(self.data.len(), 1, "item() on a tensor of shape {:?}", self.shape);
        self.data[0]
    }

    /// Adds `other` element-wise into `self` (shapes must have equal length).
    ///
    /// # Panics
    /// When the element counts differ.
    pub fn add_assign(&mut self, other: &Tensor) {
        assert_eq!(
            self.data.len(),
            other.data.len(),
            "add_assign: shapes {:?} and {:?}",
            self.shape,
            other.shape
        );
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += *b;
        }
    }

    /// An `ndarray` view with the same shape (dynamic dimension).
    pub fn view(&self) -> ndarray::ArrayViewD<'_, f32> {
        ndarray::ArrayViewD::from_shape(self.shape.clone(), &self.data)
            .expect("shape and data length agree by construction")
    }

    /// Builds a tensor from any `ndarray` array (copied into row-major order).
    pub fn from_array<S, D>(a: &ndarray::ArrayBase<S, D>) -> Self
    where
        S: ndarray::Data<Elem = f32>,
        D: ndarray::Dimension,
    {
        let shape = a.shape().to_vec();
        let data: Vec<f32> = a.iter().copied().collect();
        Self { shape, data }
    }
}
