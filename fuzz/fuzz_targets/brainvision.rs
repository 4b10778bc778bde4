//! BrainVision reader: the input is split into a `.vhdr` text, a `.vmrk` text and `.eeg` bytes
//! (separated by the first two 0xFF bytes), written to a private temporary directory and read.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use eeglens_io::read_brainvision;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let d = base.join(format!("eeglens-fuzz-bv-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let vhdr = parts.next().unwrap_or(&[]);
    let vmrk = parts.next().unwrap_or(&[]);
    let eeg = parts.next().unwrap_or(&[]);
    let d = dir();
    // Point the header at our files whatever it says, so the binary and marker paths are exercised.
    let mut text = Vec::from(vhdr);
    text.extend_from_slice(b"\n[Common Infos]\nDataFile=f.eeg\nMarkerFile=f.vmrk\n");
    std::fs::write(d.join("f.vhdr"), &text).expect("write");
    std::fs::write(d.join("f.vmrk"), vmrk).expect("write");
    std::fs::write(d.join("f.eeg"), eeg).expect("write");
    let _ = read_brainvision(&d.join("f.vhdr"));
});
