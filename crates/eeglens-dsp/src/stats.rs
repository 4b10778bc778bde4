//! Statistics helpers shared by training and interpretation: the exact
//! binomial tail, the subject-level permutation test of an accuracy, and the
//! "above chance" verdict they report.

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

/// The exact (Clopper–Pearson) two-sided interval of a binomial proportion: `k`
/// successes in `n` trials, coverage at least `level` (0.95 for a 95 % interval).
/// The lower end is the `p` at which `P(X >= k) = (1 - level) / 2` (0 when `k = 0`),
/// the upper end the `p` at which `P(X <= k) = (1 - level) / 2` (1 when `k = n`),
/// both found by bisection on [`binomial_upper_tail`] to within 1e-12. `None` when
/// `n = 0`, `k > n` or `level` is not in (0, 1).
///
/// A rate over a validation grid's few dozen cells is a count; the interval says
/// which targets the count can tell apart (26 of 28 is 93 %, and its 95 % interval 76–99 %).
pub fn clopper_pearson(k: usize, n: usize, level: f64) -> Option<(f64, f64)> {
    if n == 0 || k > n || !(level > 0.0 && level < 1.0) {
        return None;
    }
    let tail = (1.0 - level) / 2.0;
    // Both tails are monotone in p: P(X >= k) rises with p, P(X <= k) falls.
    let solve = |f: &dyn Fn(f64) -> f64| {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while hi - lo > 1e-12 {
            let mid = 0.5 * (lo + hi);
            if f(mid) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    let lower = if k == 0 { 0.0 } else { solve(&|p| binomial_upper_tail(n, k, p) - tail) };
    let upper = if k == n { 1.0 } else { solve(&|p| tail - (1.0 - binomial_upper_tail(n, k + 1, p))) };
    Some((lower, upper))
}

/// The verdict "the model learned something": the subject-level
/// permutation test of the window accuracy ([`subject_permutation`]) gives
/// `p <` [`CHANCE_ALPHA`] *and* the window accuracy is above the share of the
/// largest class.
///
/// `window` is `(correct, n, chance)`, chance being the success rate of a
/// model that ignores its input (the largest class share). Windows of one
/// subject are not independent (they share that subject's EEG), so a
/// binomial test over windows treats a few subjects' correlated windows as
/// many independent successes: over a few thousand windows a three-point edge
/// from a handful of subjects passes it. The permutation test keeps each
/// subject's windows together and shuffles only which subject carries which
/// class, so its unit is the subject.
pub fn learned_verdict(window: (usize, usize, f64), subject: &SubjectPermutation) -> bool {
    let (wc, wn, wq) = window;
    wn > 0 && wc as f64 > wq * wn as f64 && subject.p < CHANCE_ALPHA
}

/// Permutations of the Monte Carlo subject test, when the labelings are too
/// many to enumerate.
pub const SUBJECT_PERMUTATIONS: usize = 9_999;

/// Two-class labelings enumerated exactly up to this many.
const EXACT_LABELINGS: f64 = 300_000.0;

/// The subject-level permutation test of a classifier's window accuracy
/// ([`subject_permutation`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubjectPermutation {
    /// units permuted: (subject, class) pairs
    pub units: usize,
    /// distinct labelings of the units (the multinomial coefficient)
    pub labelings: f64,
    /// whether every labeling was enumerated (else [`SUBJECT_PERMUTATIONS`] random ones)
    pub exact: bool,
    /// one-sided p: the share of labelings whose window accuracy reaches the observed one
    pub p: f64,
    /// the smallest p the test can give: `1 / labelings` (exact) or
    /// `1 / (permutations + 1)` when that is larger
    pub floor: f64,
}

/// Is a classifier's window accuracy above chance, with the subject as the
/// unit? `units[u] = (label, votes)`: unit `u`'s true class and how many of its
/// windows were predicted as each class (`votes[c]`). The statistic is the
/// number of windows right, `sum_u votes_u[label_u]`; its null distribution
/// comes from reassigning the observed labels to the units (each labeling
/// equally likely when the predictions ignore the class). Two classes are
/// enumerated exactly up to 300,000 labelings; otherwise
/// [`SUBJECT_PERMUTATIONS`] random labelings from a fixed seed, with
/// `p = (1 + exceed) / (1 + permutations)`. Deterministic for given units.
pub fn subject_permutation(units: &[(usize, Vec<u64>)]) -> SubjectPermutation {
    let n = units.len();
    let k = units.iter().map(|(l, v)| v.len().max(l + 1)).max().unwrap_or(0);
    let mut class_n = vec![0usize; k];
    for (l, _) in units {
        class_n[*l] += 1;
    }
    let hit = |u: usize, c: usize| units[u].1.get(c).copied().unwrap_or(0) as i64;
    let observed: i64 = (0..n).map(|u| hit(u, units[u].0)).sum();
    let ln_fact = |m: usize| (1..=m).map(|i| (i as f64).ln()).sum::<f64>();
    let labelings = (ln_fact(n) - class_n.iter().map(|&m| ln_fact(m)).sum::<f64>()).exp().round().max(1.0);
    let present = class_n.iter().filter(|&&m| m > 0).count();
    if present < 2 {
        // One class only: every labeling is the observed one.
        return SubjectPermutation { units: n, labelings: 1.0, exact: true, p: 1.0, floor: 1.0 };
    }
    if k == 2 && labelings <= EXACT_LABELINGS {
        // Windows right = sum of every unit's class-0 votes + sum over the
        // units labelled 1 of (votes1 - votes0): count the subsets of size n1.
        let base: i64 = (0..n).map(|u| hit(u, 0)).sum();
        let d: Vec<i64> = (0..n).map(|u| hit(u, 1) - hit(u, 0)).collect();
        let need = observed - base;
        let (mut at_least, mut total) = (0u64, 0u64);
        let mut idx: Vec<usize> = (0..class_n[1]).collect();
        loop {
            total += 1;
            if idx.iter().map(|&i| d[i]).sum::<i64>() >= need {
                at_least += 1;
            }
            // Next combination in lexicographic order.
            let m = idx.len();
            let Some(pos) = (0..m).rev().find(|&j| idx[j] < n - m + j) else { break };
            idx[pos] += 1;
            for j in pos + 1..m {
                idx[j] = idx[j - 1] + 1;
            }
        }
        let p = at_least as f64 / total as f64;
        return SubjectPermutation { units: n, labelings, exact: true, p, floor: 1.0 / labelings };
    }
    let mut labels: Vec<usize> = units.iter().map(|(l, _)| *l).collect();
    let mut state = 0x5EED_0F5B_1EC7_u64;
    let mut exceed = 0usize;
    for _ in 0..SUBJECT_PERMUTATIONS {
        for i in (1..n).rev() {
            let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
            labels.swap(i, j);
        }
        if (0..n).map(|u| hit(u, labels[u])).sum::<i64>() >= observed {
            exceed += 1;
        }
    }
    let resolution = 1.0 / (SUBJECT_PERMUTATIONS + 1) as f64;
    SubjectPermutation {
        units: n,
        labelings,
        exact: false,
        p: (1 + exceed) as f64 / (1 + SUBJECT_PERMUTATIONS) as f64,
        floor: (1.0 / labelings).max(resolution),
    }
}

/// SplitMix64: the permutations' random numbers.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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

    /// SciPy's `binomtest(k, n).proportion_ci(0.95, method="exact")`, from
    /// `tools/golden/dsp_clopper_pearson_golden.py`.
    #[test]
    fn clopper_pearson_matches_scipy() {
        let golden = [
            (0, 8, 0.0, 0.3694166475528192),
            (26, 28, 0.7649652268254805, 0.9912295032964729),
            (20, 28, 0.5133316845510593, 0.8677634874288749),
            (12, 28, 0.2446239363021466, 0.628206371387904),
            (19, 26, 0.5221252103066468, 0.884267786708496),
            (5, 10, 0.1870860284474045, 0.8129139715525955),
            (10, 10, 0.6915028921812371, 1.0),
            (1, 48, 0.0005273152534897486, 0.11069616059315225),
            (150, 300, 0.44199772080801364, 0.5580022791919863),
        ];
        for (k, n, lo, hi) in golden {
            let (l, h) = clopper_pearson(k, n, 0.95).expect("a proportion");
            assert!(
                (l - lo).abs() < 1e-9 && (h - hi).abs() < 1e-9,
                "{k}/{n}: ({l}, {h}) against ({lo}, {hi})"
            );
        }
        assert_eq!(clopper_pearson(0, 0, 0.95), None);
        assert_eq!(clopper_pearson(3, 2, 0.95), None);
        assert_eq!(clopper_pearson(1, 2, 1.0), None);
        // Wider at a higher level, and always around k / n.
        let (l90, h90) = clopper_pearson(7, 20, 0.90).expect("a proportion");
        let (l99, h99) = clopper_pearson(7, 20, 0.99).expect("a proportion");
        assert!(l99 < l90 && l90 < 0.35 && 0.35 < h90 && h90 < h99);
    }

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

    /// Two-class units: `(label, [votes for 0, votes for 1])` from each unit's
    /// windows and how many of them are right.
    fn units(rows: &[(usize, u64, u64)]) -> Vec<(usize, Vec<u64>)> {
        rows.iter()
            .map(|&(l, n, right)| (l, if l == 0 { vec![right, n - right] } else { vec![n - right, right] }))
            .collect()
    }

    /// The p by brute force: every ordering of the labels (n! of them, each
    /// labeling counted equally often).
    fn p_by_orderings(units: &[(usize, Vec<u64>)]) -> f64 {
        fn rec(
            labels: &mut Vec<usize>,
            k: usize,
            units: &[(usize, Vec<u64>)],
            obs: u64,
            hit: &mut (u64, u64),
        ) {
            if k == labels.len() {
                let s: u64 = units.iter().zip(labels.iter()).map(|((_, v), &l)| v[l]).sum();
                hit.1 += 1;
                if s >= obs {
                    hit.0 += 1;
                }
                return;
            }
            for i in k..labels.len() {
                labels.swap(k, i);
                rec(labels, k + 1, units, obs, hit);
                labels.swap(k, i);
            }
        }
        let obs: u64 = units.iter().map(|(l, v)| v[*l]).sum();
        let mut labels: Vec<usize> = units.iter().map(|(l, _)| *l).collect();
        let mut hit = (0, 0);
        rec(&mut labels, 0, units, obs, &mut hit);
        hit.0 as f64 / hit.1 as f64
    }

    #[test]
    fn subject_test_equals_brute_force() {
        let cases = [
            units(&[
                (0, 40, 30),
                (0, 40, 12),
                (0, 40, 25),
                (1, 40, 33),
                (1, 40, 20),
                (1, 40, 38),
                (1, 40, 9),
            ]),
            units(&[(0, 10, 10), (0, 12, 0), (1, 8, 8), (1, 9, 1), (0, 30, 17), (1, 11, 6)]),
            // Three classes, 7 units.
            vec![
                (0, vec![5, 1, 0]),
                (0, vec![2, 2, 2]),
                (1, vec![0, 6, 1]),
                (1, vec![3, 3, 0]),
                (2, vec![1, 1, 4]),
                (2, vec![0, 2, 5]),
                (0, vec![4, 0, 2]),
            ],
        ];
        for u in &cases {
            let t = subject_permutation(u);
            let want = p_by_orderings(u);
            if t.exact {
                assert_relative_eq!(t.p, want, max_relative = 1e-12);
            } else {
                // 9,999 permutations: the Monte Carlo SD is at most 0.005.
                assert!((t.p - want).abs() < 0.02, "{} against {want}", t.p);
            }
            assert!(t.p >= t.floor - 1e-15);
        }
        let t = subject_permutation(&cases[0]);
        assert!(t.exact && t.labelings == 35.0 && (t.floor - 1.0 / 35.0).abs() < 1e-15, "{t:?}");
        assert!(!subject_permutation(&cases[2]).exact);
    }

    #[test]
    fn subject_test_floors_and_limits() {
        // Every subject right: p is the floor, 1 / C(8, 4) = 1/70.
        let all = units(&[
            (0, 40, 40),
            (0, 40, 40),
            (0, 40, 40),
            (0, 40, 40),
            (1, 40, 40),
            (1, 40, 40),
            (1, 40, 40),
            (1, 40, 40),
        ]);
        let t = subject_permutation(&all);
        assert_relative_eq!(t.p, 1.0 / 70.0, max_relative = 1e-12);
        // Four subjects can never reach 0.05: 1 / C(4, 2) = 1/6.
        let four = units(&[(0, 40, 40), (0, 40, 40), (1, 40, 40), (1, 40, 40)]);
        let t = subject_permutation(&four);
        assert!(t.floor > CHANCE_ALPHA && t.p >= t.floor);
        // One class: nothing to test.
        assert_eq!(subject_permutation(&units(&[(1, 10, 9), (1, 10, 8)])).p, 1.0);
        // 40 subjects: too many labelings to enumerate; Monte Carlo, deterministic.
        let many: Vec<(usize, u64, u64)> = (0..40).map(|i| (i % 2, 60, 30 + (i as u64 * 7) % 11)).collect();
        let (a, b) = (subject_permutation(&units(&many)), subject_permutation(&units(&many)));
        assert!(!a.exact && a == b);
    }

    /// Calibration: null data whose subjects differ in how well the model
    /// happens to do on them (correlated windows) and a model that ignores
    /// the class. The binomial over windows calls many of these "above
    /// chance"; the subject test stays near its level.
    #[test]
    fn subject_test_holds_its_level_where_the_window_binomial_does_not() {
        let mut state = 7u64;
        let mut unif = || (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
        let (draws, n_sub, n_win) = (400, 16, 60);
        let (mut perm_claims, mut binom_claims, mut old_verdict_claims) = (0, 0, 0);
        for _ in 0..draws {
            let mut rows = Vec::new();
            for s in 0..n_sub {
                // Each subject's windows lean to one class: P(predict 1) ~ U(0.1, 0.9).
                let q = 0.1 + 0.8 * unif();
                let ones = (0..n_win).filter(|_| unif() < q).count() as u64;
                let label = s % 2;
                rows.push((label, if label == 1 { ones } else { n_win - ones }));
            }
            let u = units(&rows.iter().map(|&(l, r)| (l, n_win, r)).collect::<Vec<_>>());
            let correct: u64 = rows.iter().map(|r| r.1).sum();
            let n = n_sub as u64 * n_win;
            let t = subject_permutation(&u);
            let wp = binomial_upper_tail(n as usize, correct as usize, 0.5);
            let subjects_right = rows.iter().filter(|r| 2 * r.1 > n_win).count();
            perm_claims += usize::from(learned_verdict((correct as usize, n as usize, 0.5), &t));
            binom_claims += usize::from(wp < CHANCE_ALPHA);
            old_verdict_claims += usize::from(wp < CHANCE_ALPHA && 2 * subjects_right > n_sub);
        }
        let rate = |c: usize| c as f64 / draws as f64;
        eprintln!(
            "null claims over {draws} draws: subject test {}, window binomial {}, binomial + majority {}",
            rate(perm_claims),
            rate(binom_claims),
            rate(old_verdict_claims)
        );
        // Level 0.05; 400 draws: a rate above 0.085 is 3 SD out.
        assert!(rate(perm_claims) <= 0.085, "subject test claims {}", rate(perm_claims));
        assert!(rate(binom_claims) > 0.2, "window binomial claims only {}", rate(binom_claims));
        assert!(
            rate(old_verdict_claims) > 0.1,
            "binomial + majority claims only {}",
            rate(old_verdict_claims)
        );
    }

    #[test]
    fn verdicts() {
        let seven_of_eight = units(&[
            (0, 40, 35),
            (0, 40, 30),
            (0, 40, 33),
            (0, 40, 28),
            (1, 40, 36),
            (1, 40, 31),
            (1, 40, 30),
            (1, 40, 17),
        ]);
        let t = subject_permutation(&seven_of_eight);
        assert!(learned_verdict((240, 320, 0.5), &t), "{t:?}");
        // The same windows right, but carried by two subjects: not learned.
        let few = units(&[
            (0, 40, 40),
            (0, 40, 40),
            (0, 40, 20),
            (0, 40, 20),
            (1, 40, 20),
            (1, 40, 20),
            (1, 40, 20),
            (1, 40, 20),
        ]);
        let t = subject_permutation(&few);
        assert!(binomial_upper_tail(320, 200, 0.5) < CHANCE_ALPHA);
        assert!(!learned_verdict((200, 320, 0.5), &t), "{t:?}");
        // A strong subject test but at the majority class's share: not learned.
        assert!(!learned_verdict((240, 320, 0.75), &subject_permutation(&seven_of_eight)));
    }
}
