use super::spectral::band_power;
use super::*;

/// Rough unit-sphere positions of the 24 HBN channels (enough for tests of
/// the generator; the real montage lives in eeglens-io).
fn montage() -> (Vec<String>, Vec<[f64; 3]>) {
    let table: [(&str, [f64; 3]); 24] = [
        ("Fp1", [-0.31, 0.95, 0.0]),
        ("Fp2", [0.31, 0.95, 0.0]),
        ("F7", [-0.81, 0.59, 0.0]),
        ("F3", [-0.55, 0.67, 0.5]),
        ("Fz", [0.0, 0.72, 0.69]),
        ("F4", [0.55, 0.67, 0.5]),
        ("F8", [0.81, 0.59, 0.0]),
        ("FC3", [-0.62, 0.33, 0.71]),
        ("FCz", [0.0, 0.39, 0.92]),
        ("FC4", [0.62, 0.33, 0.71]),
        ("T3", [-1.0, 0.0, 0.0]),
        ("C3", [-0.72, 0.0, 0.69]),
        ("C4", [0.72, 0.0, 0.69]),
        ("T4", [1.0, 0.0, 0.0]),
        ("CP3", [-0.62, -0.33, 0.71]),
        ("CPz", [0.0, -0.39, 0.92]),
        ("CP4", [0.62, -0.33, 0.71]),
        ("T5", [-0.81, -0.59, 0.0]),
        ("P3", [-0.55, -0.67, 0.5]),
        ("Pz", [0.0, -0.72, 0.69]),
        ("P4", [0.55, -0.67, 0.5]),
        ("T6", [0.81, -0.59, 0.0]),
        ("O1", [-0.31, -0.95, 0.0]),
        ("Cz", [0.0, 0.0, 1.0]),
    ];
    (table.iter().map(|t| t.0.to_string()).collect(), table.iter().map(|t| t.1).collect())
}

fn cfg() -> SynthConfig {
    let (ch, pos) = montage();
    let mut c = SynthConfig::new(ch, pos);
    c.n_subjects = 8;
    c.fs = 128.0;
    c.blocks = vec![(Eyes::Open, 10.0), (Eyes::Closed, 30.0)];
    c
}

fn idx(c: &SynthConfig, name: &str) -> usize {
    c.channels.iter().position(|x| x == name).expect("channel")
}

fn to_f64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

#[test]
fn deterministic_in_the_seed_and_different_between_subjects() {
    let c = cfg();
    let metas = subjects(&c);
    let a = generate_subject(&c, &metas[0], 0);
    let b = generate_subject(&c, &metas[0], 0);
    assert_eq!(a, b);
    let other = generate_subject(&c, &metas[1], 1);
    assert_ne!(a.data[0], other.data[0]);
    let mut c2 = c.clone();
    c2.seed = 99;
    assert_ne!(generate_subject(&c2, &metas[0], 0).data[0], a.data[0]);
}

#[test]
fn amplitudes_are_those_of_scalp_eeg() {
    let c = cfg();
    let metas = subjects(&c);
    let s = generate_subject(&c, &metas[2], 2);
    assert_eq!(s.data.len(), 24);
    assert_eq!(s.data[0].len(), 40 * 128);
    for (name, ch) in c.channels.iter().zip(&s.data) {
        let x = to_f64(ch);
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let rms = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
        assert!((5.0..100.0).contains(&rms), "{name}: rms {rms} µV");
    }
}

#[test]
fn classes_are_balanced_and_ages_alike() {
    let mut c = cfg();
    c.n_subjects = 200;
    let m = subjects(&c);
    let n_m = m.iter().filter(|s| s.sex == "M").count();
    assert_eq!(n_m, 100);
    let mean_age = |sex: &str| {
        let a: Vec<f64> = m.iter().filter(|s| s.sex == sex).map(|s| s.age).collect();
        a.iter().sum::<f64>() / a.len() as f64
    };
    assert!((mean_age("F") - mean_age("M")).abs() < 1.5);
    assert!(m.iter().all(|s| (5.0..=21.0).contains(&s.age)));
    assert_eq!(m[0].label, "001");
}

#[test]
fn alpha_is_stronger_with_eyes_closed_at_the_back() {
    let c = cfg();
    let metas = subjects(&c);
    let s = generate_subject(&c, &metas[3], 3);
    let o1 = to_f64(&s.data[idx(&c, "O1")]);
    let open = &o1[..10 * 128];
    let closed = &o1[15 * 128..25 * 128];
    let a_open = band_power(open, 128.0, 8.0, 13.0);
    let a_closed = band_power(closed, 128.0, 8.0, 13.0);
    assert!(a_closed > 2.0 * a_open, "alpha closed {a_closed} vs open {a_open}");
}

/// The planted effect raises band power where it is planted, leaves far
/// channels alone, and keeps every channel's total power.
#[test]
fn planted_effect_changes_shape_not_gain() {
    let mut c = cfg();
    c.blinks = false;
    let metas = subjects(&c);
    let (i, meta) =
        metas.iter().enumerate().find(|(_, m)| m.sex == c.effect.class).expect("an effect subject");
    let with = generate_subject(&c, meta, i);
    let mut c0 = c.clone();
    c0.effect.size = 0.0;
    let without = generate_subject(&c0, meta, i);
    let ratio = |name: &str, lo: f64, hi: f64| {
        let k = idx(&c, name);
        band_power(&to_f64(&with.data[k]), 128.0, lo, hi)
            / band_power(&to_f64(&without.data[k]), 128.0, lo, hi)
    };
    for planted in ["Fz", "FCz", "Cz"] {
        let r = ratio(planted, 4.0, 8.0);
        assert!(r > 1.25, "{planted}: theta ratio {r}");
        let total = ratio(planted, 0.0, 64.0);
        assert!((total - 1.0).abs() < 0.05, "{planted}: total power ratio {total}");
    }
    for far in ["O1", "T5", "T6"] {
        let r = ratio(far, 4.0, 8.0);
        assert!((r - 1.0).abs() < 0.15, "{far}: theta ratio {r}");
    }
    // The other class is untouched by the effect size.
    let (j, other) = metas.iter().enumerate().find(|(_, m)| m.sex != c.effect.class).expect("other class");
    assert_eq!(generate_subject(&c, other, j), generate_subject(&c0, other, j));
}

#[test]
fn effect_in_another_band_and_place() {
    let mut c = cfg();
    c.blinks = false;
    c.effect.band = (18.0, 25.0);
    c.effect.channels = vec!["P3".into(), "Pz".into(), "P4".into()];
    c.effect.size = 1.5;
    let metas = subjects(&c);
    let (i, meta) =
        metas.iter().enumerate().find(|(_, m)| m.sex == c.effect.class).expect("an effect subject");
    let with = generate_subject(&c, meta, i);
    let mut c0 = c.clone();
    c0.effect.size = 0.0;
    let without = generate_subject(&c0, meta, i);
    let k = idx(&c, "Pz");
    let beta = band_power(&to_f64(&with.data[k]), 128.0, 18.0, 25.0)
        / band_power(&to_f64(&without.data[k]), 128.0, 18.0, 25.0);
    assert!(beta > 1.5, "beta ratio at Pz {beta}");
    let k = idx(&c, "Fz");
    let theta = band_power(&to_f64(&with.data[k]), 128.0, 4.0, 8.0)
        / band_power(&to_f64(&without.data[k]), 128.0, 4.0, 8.0);
    assert!((theta - 1.0).abs() < 0.15, "theta ratio at Fz {theta}");
}

#[test]
fn invalid_configs_are_explained() {
    let mut c = cfg();
    c.effect.channels = vec!["Xx".into()];
    assert!(c.validate().unwrap_err().contains("Xx is not in the montage"));
    let mut c = cfg();
    c.effect.band = (4.0, 80.0);
    assert!(c.validate().unwrap_err().contains("must satisfy"));
    let mut c = cfg();
    c.positions.pop();
    assert!(c.validate().unwrap_err().contains("positions"));
}
