//! The data's own class spectra from a real epoch store: a toy store whose
//! class M carries a 16 Hz sine on the first half of the 24 channels.

mod scratch;

use eeglens_data::store::{EpochStore, Split};
use eeglens_data::toy::{name_channels, toy_set, ToyConfig};
use eeglens_io::montage::HBN24;
use eeglens_report::spectra::DataSpectra;

fn store(dir: &std::path::Path, effect: f32) -> EpochStore {
    let mut set = toy_set(&ToyConfig {
        subjects: [4, 2, 6],
        windows: 4,
        n_channels: 24,
        n_samples: 256,
        effect,
        signature: 0.0,
        seed: 5,
    });
    name_channels(&mut set, &HBN24);
    let path = dir.join("epochs.safetensors");
    set.write(&path).expect("write the store");
    EpochStore::open(&path).expect("open the store")
}

#[test]
fn the_planted_band_parts_the_classes_where_it_was_planted_and_nowhere_else() {
    let dir = std::env::temp_dir().join(format!("eeglens-report-spectra-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let _scratch = scratch::Scratch(dir.clone());
    let s = DataSpectra::of_store(&store(&dir, 2.0), Split::Test).expect("spectra");
    assert_eq!(s.split, "test");
    let at16 = s.freqs.iter().position(|f| (f - 16.0).abs() < 1e-9).expect("a 16 Hz bin");
    let ratio = |group: &str| {
        let g = s.groups.iter().find(|g| g.group.name == group).unwrap_or_else(|| panic!("{group}"));
        assert_eq!(g.classes.len(), 2, "both classes");
        // Six test subjects, alternating classes: three each, four windows each.
        assert!(g.classes.iter().all(|c| c.n_subjects == 3 && c.n_windows == 12), "{:?}", g.classes);
        assert!(g.classes.iter().all(|c| c.sem[at16].is_finite() && c.sem[at16] >= 0.0));
        g.classes[1].mean[at16] / g.classes[0].mean[at16]
    };
    // Fp1 .. T4 carry the sine: the frontal group holds only those; the
    // parieto-occipital group (P3, Pz, P4, O1) none of them.
    assert!(ratio("frontal") > 5.0, "frontal M/F at 16 Hz: {}", ratio("frontal"));
    let po = ratio("parieto-occipital");
    assert!((0.5..2.0).contains(&po), "parieto-occipital M/F at 16 Hz: {po}");
    // A store without test windows: one line naming it, no panic.
    let mut set = toy_set(&ToyConfig { subjects: [2, 2, 0], windows: 2, ..ToyConfig::default() });
    name_channels(&mut set, &HBN24[..8]);
    let path = dir.join("no-test.safetensors");
    set.write(&path).expect("write");
    let e = DataSpectra::of_store(&EpochStore::open(&path).expect("open"), Split::Test).unwrap_err();
    assert!(e.contains("no-test.safetensors") && e.contains("no test window") && !e.contains('\n'), "{e}");
}
