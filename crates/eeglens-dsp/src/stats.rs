//! Statistics helpers shared by training and interpretation: the exact
//! binomial tail and the "above chance" verdict both report.

/// Level of the chance tests.
pub const CHANCE_ALPHA: f64 = 0.05;

/// `P(X >= k)` for `X ~ Binomial(n, q)`, summed in log space (exact to
/// rounding for any `n` a data set can have).
pub fn binomial_upper_tail(n: usize, k: usize, q: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    let (lq, lr) = (q.ln(), (1.0 - q).ln());
    let ln_fact: Vec<f64> = std::iter::once(0.0)
        .chain((1..=n).scan(0.0, |acc, i| {
            *acc += (i as f64).ln();
            Some(*acc)
        }))
        .collect();
    let terms: Vec<f64> = (k..=n)
        .map(|j| ln_fact[n] - ln_fact[j] - ln_fact[n - j] + j as f64 * lq + (n - j) as f64 * lr)
        .collect();
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = terms.iter().map(|t| (t - m).exp()).sum();
    (m + s.ln()).exp().min(1.0)
}

/// The verdict "the model learned something": its per-window accuracy is
/// above chance by a one-sided binomial test at [`CHANCE_ALPHA`] *and* more
/// subjects than chance are classified correctly.
///
/// `window` and `subject` are `(correct, n, chance)`, chance being the
/// success rate of a model that ignores its input (the largest class share).
/// Windows of one subject are not independent, so the per-window p alone
/// is too small when a few subjects carry the accuracy; the subject
/// condition guards against that, while the per-subject test alone has
/// little power with the handful of subjects a test split holds.
pub fn learned_verdict(window: (usize, usize, f64), subject: (usize, usize, f64)) -> bool {
    let (wc, wn, wq) = window;
    let (sc, sn, sq) = subject;
    binomial_upper_tail(wn, wc, wq) < CHANCE_ALPHA && sn > 0 && sc as f64 > sq * sn as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Direct sums with exact binomial coefficients, for small n.
    fn tail_direct(n: u64, k: u64, q: f64) -> f64 {
        let choose = |n: u64, k: u64| (1..=k).fold(1.0f64, |acc, i| acc * (n - k + i) as f64 / i as f64);
        (k..=n).map(|j| choose(n, j) * q.powi(j as i32) * (1.0 - q).powi((n - j) as i32)).sum()
    }

    #[test]
    fn tail_matches_direct_sums() {
        for n in [1u64, 5, 8, 20, 40] {
            for k in 0..=n {
                for q in [0.1, 0.5, 0.625, 0.9] {
                    assert_relative_eq!(
                        binomial_upper_tail(n as usize, k as usize, q),
                        tail_direct(n, k, q),
                        max_relative = 1e-9
                    );
                }
            }
        }
    }

    #[test]
    fn known_values() {
        // 7 of 8 at 1/2: (8 + 1) / 256.
        assert_relative_eq!(binomial_upper_tail(8, 7, 0.5), 9.0 / 256.0, max_relative = 1e-12);
        assert_relative_eq!(binomial_upper_tail(8, 8, 0.5), 1.0 / 256.0, max_relative = 1e-12);
        let p = binomial_upper_tail(1000, 700, 0.5);
        assert!(p > 0.0 && p < 1e-30, "{p}");
        assert_eq!(binomial_upper_tail(10, 0, 0.5), 1.0);
        assert_eq!(binomial_upper_tail(10, 11, 0.5), 0.0);
    }

    #[test]
    fn verdicts() {
        assert!(learned_verdict((250, 320, 0.5), (7, 8, 0.5)));
        assert!(!learned_verdict((165, 320, 0.5), (5, 8, 0.5)), "a coin");
        assert!(!learned_verdict((250, 320, 0.5), (4, 8, 0.5)), "windows from a minority of subjects");
        assert!(!learned_verdict((240, 320, 0.75), (6, 8, 0.75)), "the majority class");
    }
}
