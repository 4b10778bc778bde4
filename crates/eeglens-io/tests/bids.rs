//! BIDS scanning on fixtures/io/bids_tiny (see tools/golden/io_make_edf_fixtures.py).

mod common;

use common::fixture;
use eeglens_io::bids::{is_bids_root, scan};
use eeglens_io::ChannelType;

#[test]
fn scan_lists_recordings_with_entities_and_participants() {
    let root = fixture("io", "bids_tiny");
    assert!(is_bids_root(&root));
    let ds = scan(&root).expect("scan");
    assert_eq!(ds.recordings.len(), 3, "the .json sidecar is not a recording");
    assert_eq!(ds.subjects(), ["01", "02"]);
    let p = ds.participants.as_ref().expect("participants.tsv");
    assert_eq!(p.columns, ["participant_id", "sex", "age", "EHQ_Total"], "BOM stripped, CRLF tolerated");
    let saiit = &ds.recordings[1];
    assert_eq!(saiit.task.as_deref(), Some("SAIIT"));
    assert_eq!(saiit.run.as_deref(), Some("1"));
    let r2 = &ds.recordings[2];
    assert_eq!((r2.subject.as_str(), r2.session.as_deref()), ("02", Some("01")));
    assert_eq!(r2.participant.get("sex").map(String::as_str), Some("M"));
    assert_eq!(r2.participant.get("EHQ_Total").map(String::as_str), Some("-40"));
    let rest = ds.with_task("restingstate");
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|r| r.channels_tsv.is_some() && r.events_tsv.is_some()));
}

#[test]
fn read_applies_channels_events_and_participant() {
    let ds = scan(&fixture("io", "bids_tiny")).expect("scan");
    let rec = ds.recordings[0].read().expect("read");
    assert_eq!(rec.subject.id, "01");
    assert_eq!(rec.subject.sex.as_deref(), Some("F"));
    assert!(rec.channels[1].bad, "Cz has status bad");
    assert!(!rec.channels[0].bad);
    assert_eq!(rec.channels[2].kind, ChannelType::Eog, "VEOG is EOG");
    assert_eq!(rec.annotations.len(), 2);
    assert_eq!(rec.annotations[0].description, "eyes_closed");
    assert_eq!(rec.annotations[0].duration_s, None);
    assert_eq!(rec.annotations[1].description, "30", "falls back to value");
    assert_eq!(rec.annotations[1].duration_s, Some(0.5));
}
