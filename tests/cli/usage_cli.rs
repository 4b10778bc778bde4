//! The command line's fixed choices: a value outside them is a usage error
//! (exit 2) on one line that names the valid values, and `--help` lists them.

use crate::util::{assert_usage_error, eeglens};

/// `eeglens ARGS` is refused as a usage error naming every needle.
fn usage_error(args: &[&str], needles: &[&str]) {
    assert_usage_error(&eeglens(args), needles);
}

#[test]
fn a_wrong_choice_is_a_usage_error_naming_the_valid_values() {
    usage_error(
        &["train", "--out", "r", "--optimizer", "lbfgs"],
        &["'lbfgs'", "--optimizer", "adam, adamw, adamax, sgd"],
    );
    usage_error(
        &["train", "--out", "r", "--monitor", "val_f1"],
        &["'val_f1'", "val_loss, val_accuracy, val_balanced_accuracy, val_auc"],
    );
    usage_error(&["eval", "--run", "r", "--split", "holdout"], &["'holdout'", "test, val, train"]);
    usage_error(&["interpret", "--run", "r", "--rule", "lrp"], &["'lrp'", "deconvnet, guided, saliency"]);
    usage_error(&["interpret", "--run", "r", "--deconv-seed", "mean"], &["'mean'", "class, shared"]);
    usage_error(&["interpret", "--run", "r", "--split", "all"], &["'all'", "test, val, val+test, train"]);
    usage_error(
        &["prepare", "d", "--label", "sex", "--out", "e", "--normalise", "zscore"],
        &["'zscore'", "recording, segment, none"],
    );
    usage_error(&["synth", "--out", "d", "--format", "gdf"], &["'gdf'", "edf, bdf"]);
}

/// `--reference` takes a choice or a channel list, so a word is a channel name
/// (found or not in each recording); a list naming no channel is refused
/// before any file is read, naming what the flag takes.
#[test]
fn a_reference_naming_no_channel_is_refused_naming_the_choices() {
    let o = eeglens(&["prepare", "d", "--label", "sex", "--out", "e", "--reference", " , "]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("average, none, mastoids or a channel list"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn model_names_are_the_zoos() {
    let zoo = eeglens_nn::models::MODEL_NAMES.join(", ");
    usage_error(&["bench", "--model", "alexnet"], &["'alexnet'", &zoo]);
    usage_error(&["forward", "--model", "auto", "--weights", "w", "--input", "x", "--out", "y"], &[&zoo]);
    let with_auto = format!("{}, {zoo}", eeglens_train::select::AUTO);
    usage_error(&["train", "--out", "r", "--model", "vgg16"], &["'vgg16'", &with_auto]);
    usage_error(&["validate", "--model", "vgg16"], &[&with_auto]);
    usage_error(&["demo", "--model", "vgg16"], &[&with_auto]);
}

#[test]
fn help_lists_the_choices() {
    let o = eeglens(&["train", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for name in eeglens_nn::models::MODEL_NAMES.iter().chain(["adamw", "val_auc", "xavier"].iter()) {
        assert!(help.contains(name), "train --help lacks {name}: {help}");
    }
    let o = eeglens(&["interpret", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    for name in ["val+test", "guided", "saliency", "spectral", "shared"] {
        assert!(help.contains(name), "interpret --help lacks {name}: {help}");
    }
}

#[test]
fn read_only_formats_are_refused_with_the_reason() {
    // `vhdr` is accepted by clap, hidden, so the refusal says why.
    let o = eeglens(&["synth", "--out", "/nonexistent/eeglens-usage", "--format", "vhdr"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no writer"), "{err}");
}
