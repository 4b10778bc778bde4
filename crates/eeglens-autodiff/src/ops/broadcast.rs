//! NumPy broadcasting for the binary element-wise ops ([`super::add`](fn@super::add), [`super::mul`](fn@super::mul)).
//!
//! Shapes are aligned on the right; a dimension broadcasts when one side has
//! size 1 (or is missing). A broadcast input is walked with stride 0 along the
//! dimensions it lacks, and its gradient is the output gradient summed over them.

/// The broadcast shape of `a` and `b`.
///
/// # Panics
/// When a dimension differs and neither side is 1; the message names `op` and both shapes.
pub(crate) fn broadcast_shape(op: &str, a: &[usize], b: &[usize]) -> Vec<usize> {
    let nd = a.len().max(b.len());
    (0..nd)
        .map(|d| {
            let da = if d + a.len() >= nd { a[d + a.len() - nd] } else { 1 };
            let db = if d + b.len() >= nd { b[d + b.len() - nd] } else { 1 };
            match (da, db) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => panic!("{op}: shapes {a:?} and {b:?} do not broadcast"),
            }
        })
        .collect()
}

/// Row-major strides of `src` laid against `out` (right-aligned), 0 where `src` broadcasts.
pub(crate) fn broadcast_strides(src: &[usize], out: &[usize]) -> Vec<usize> {
    let nd = out.len();
    let mut strides = vec![0; nd];
    let mut s = 1;
    for k in (0..src.len()).rev() {
        let d = k + nd - src.len();
        strides[d] = if src[k] == 1 { 0 } else { s };
        s *= src[k];
    }
    strides
}

/// Calls `f(out_index, a_index, b_index)` for every element of `out` in
/// row-major order, `sa` and `sb` being [`broadcast_strides`].
pub(crate) fn for_each_index(
    out: &[usize],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let nd = out.len();
    if nd == 0 {
        f(0, 0, 0);
        return;
    }
    let inner = out[nd - 1];
    let (ia, ib) = (sa[nd - 1], sb[nd - 1]);
    let outer: usize = out[..nd - 1].iter().product();
    let mut idx = vec![0usize; nd - 1];
    let (mut a0, mut b0) = (0usize, 0usize);
    for o in 0..outer {
        let base = o * inner;
        for j in 0..inner {
            f(base + j, a0 + j * ia, b0 + j * ib);
        }
        // Odometer over the outer dimensions.
        for d in (0..nd - 1).rev() {
            idx[d] += 1;
            a0 += sa[d];
            b0 += sb[d];
            if idx[d] < out[d] {
                break;
            }
            a0 -= sa[d] * out[d];
            b0 -= sb[d] * out[d];
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_broadcast_like_numpy() {
        assert_eq!(broadcast_shape("t", &[2, 1, 4], &[3, 1]), vec![2, 3, 4]);
        assert_eq!(broadcast_shape("t", &[5], &[2, 5]), vec![2, 5]);
        assert_eq!(broadcast_shape("t", &[1], &[2, 3]), vec![2, 3]);
    }

    #[test]
    #[should_panic(expected = "t: shapes [2, 3] and [4] do not broadcast")]
    fn incompatible_shapes_panic() {
        broadcast_shape("t", &[2, 3], &[4]);
    }

    #[test]
    fn indices_follow_the_strides() {
        let out = [2, 3];
        let sa = broadcast_strides(&[2, 1], &out);
        let sb = broadcast_strides(&[3], &out);
        let mut seen = Vec::new();
        for_each_index(&out, &sa, &sb, |o, a, b| seen.push((o, a, b)));
        assert_eq!(seen, vec![(0, 0, 0), (1, 0, 1), (2, 0, 2), (3, 1, 0), (4, 1, 1), (5, 1, 2)]);
    }
}
