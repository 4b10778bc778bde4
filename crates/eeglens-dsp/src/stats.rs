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

/// `P(T >= t)` for Student's t with `df` degrees of freedom, through the regularised
/// incomplete beta function `I_x(df/2, 1/2)` with `x = df / (df + t^2)` (its continued
/// fraction, Numerical Recipes' `betacf`; relative error below 1e-12).
pub fn student_t_upper_tail(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    let x = df / (df + t * t);
    let half = 0.5 * incomplete_beta(0.5 * df, 0.5, x);
    if t > 0.0 {
        half
    } else {
        1.0 - half
    }
}

/// The one-sided t-test of a Pearson correlation `r` over `n` pairs against 0:
/// `t = r sqrt((n - 2) / (1 - r^2))` with `n - 2` degrees of freedom; returns `(t, df, p)`
/// with `p = P(T >= t)` (the alternative `r > 0`). `p` is NaN below three pairs.
pub fn pearson_r_test(r: f64, n: usize) -> (f64, f64, f64) {
    if n < 3 || !r.is_finite() {
        return (f64::NAN, n.saturating_sub(2) as f64, f64::NAN);
    }
    let df = (n - 2) as f64;
    let r = r.clamp(-1.0, 1.0);
    let t = if (1.0 - r * r) <= 0.0 { r.signum() * f64::INFINITY } else { r * (df / (1.0 - r * r)).sqrt() };
    let p = if t.is_infinite() {
        if t > 0.0 {
            0.0
        } else {
            1.0
        }
    } else {
        student_t_upper_tail(t, df)
    };
    (t, df, p)
}

/// The regularised incomplete beta function `I_x(a, b)`.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges quickly for x < (a + 1) / (a + b + 2); else use the symmetry.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(π x).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// SciPy's `stats.t.sf`, from `tools/golden/dsp_student_t_golden.py`.
    #[test]
    fn student_t_tail_matches_scipy() {
        let golden = [
            (0.5, 3.0, 0.3257239824240755),
            (2.0, 5.0, 0.050969739414929174),
            (1.0, 1.0, 0.25000000000000006),
            (3.5, 10.0, 0.002863252714942605),
            (-1.2, 7.0, 0.8654140315863967),
            (2.2, 30.0, 0.017824219998417892),
            (0.0, 4.0, 0.5),
            (4.0, 120.0, 5.4971921312108296e-05),
        ];
        for (t, df, want) in golden {
            assert_relative_eq!(student_t_upper_tail(t, df), want, max_relative = 1e-9);
        }
        // r = 0.6 over 12 pairs: t = 0.6 sqrt(10 / 0.64) = 2.3717.
        let (t, df, p) = pearson_r_test(0.6, 12);
        assert_relative_eq!(t, 0.6 * (10.0f64 / 0.64).sqrt(), max_relative = 1e-12);
        assert_eq!(df, 10.0);
        assert_relative_eq!(p, student_t_upper_tail(t, 10.0), max_relative = 1e-12);
        assert!(p < 0.05 && pearson_r_test(-0.6, 12).2 > 0.95);
        assert!(pearson_r_test(0.9, 2).2.is_nan());
    }

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
