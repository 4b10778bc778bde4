//! Writing EEGLAB datasets as `pop_saveset(..., 'savemode', 'twofiles')` does: a `.set` MAT-file
//! (level 5, MATLAB's encodings, see [`crate::mat5_write`]) holding the `EEG` fields as top-level
//! variables (the EEGLAB 2019 and later layout), and a `.fdt` file of little-endian float32
//! samples, channels fastest (the column-major `[nbchan, pnts]` matrix). [`crate::read_eeglab`]
//! reads both back.
//!
//! Fields written: `setname`, `filename`, `filepath` (empty), `subject`, `nbchan`, `trials` (1),
//! `pnts`, `srate`, `xmin` (0), `xmax`, `data` and `datfile` (the `.fdt` name), `ref`,
//! `chanlocs` (`labels`, `type`, and EEGLAB's Cartesian `X`, `Y`, `Z` — X to the nose, Y to the
//! left ear — from [`crate::montage`] when the label has a known position, `[]` otherwise),
//! `event` (`type`, `latency` in 1-based samples, `duration` in samples) from the recording's
//! annotations, and `etc.T0` when the start time is known. Data are µV, as in EEGLAB.

use std::path::{Path, PathBuf};

use crate::mat5_write as mw;
use crate::montage::Montage;
use crate::recording::Recording;
use crate::IoError;

/// What [`write_eeglab`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EeglabFiles {
    /// the `.set` file
    pub set: PathBuf,
    /// the `.fdt` file beside it
    pub fdt: PathBuf,
    /// bytes written in both
    pub bytes: u64,
}

/// Writes `rec` as an EEGLAB dataset at `set` (a path ending in `.set`) and its `.fdt` beside it;
/// `reference` is stored in `EEG.ref` (`Cz` for a vertex-referenced EGI net, `average`, ...).
/// Both files are written atomically (a temporary, then a rename).
///
/// # Errors
/// [`IoError::Unsupported`] when the channels differ in rate or length, or there are none;
/// [`IoError::Os`] naming the file that could not be written.
pub fn write_eeglab(set: &Path, rec: &Recording, reference: &str) -> Result<EeglabFiles, IoError> {
    let unsupported = |what: String| IoError::Unsupported { path: set.to_path_buf(), what };
    let fs = rec.fs().ok_or_else(|| unsupported("EEGLAB needs channels of one sampling rate".into()))?;
    let pnts = rec.data.first().map_or(0, Vec::len);
    if rec.data.iter().any(|d| d.len() != pnts) {
        return Err(unsupported("EEGLAB needs channels of one length".into()));
    }
    let nbchan = rec.channels.len();
    let fdt = set.with_extension("fdt");
    let fdt_name = fdt.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let set_name = set.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();

    // The .fdt, streamed: one frame (every channel's sample t) after another.
    crate::atomic::write_file_with(&fdt, |w| {
        let mut frame = vec![0u8; nbchan * 4];
        for t in 0..pnts {
            for (c, ch) in rec.data.iter().enumerate() {
                frame[c * 4..c * 4 + 4].copy_from_slice(&ch[t].to_le_bytes());
            }
            w.write_all(&frame)?;
        }
        Ok(())
    })
    .map_err(|e| IoError::os(&fdt, e))?;

    let chanlocs: Vec<Vec<Vec<u8>>> = rec
        .channels
        .iter()
        .map(|c| {
            let pos =
                Montage::EgiHydroCel129.position(&c.name).or_else(|| Montage::Standard1020.position(&c.name));
            // eeglens: x right, y nose; EEGLAB: X nose, Y left.
            let xyz = |k: usize| {
                pos.map_or_else(mw::empty, |e| {
                    let v = [e.xyz[1], -e.xyz[0], e.xyz[2]][k];
                    mw::double_as("", &[1, 1], &[v], mw::MI_DOUBLE)
                })
            };
            vec![mw::char_utf16("", &c.name), mw::char_utf16("", c.kind.as_str()), xyz(0), xyz(1), xyz(2)]
        })
        .collect();
    let events: Vec<Vec<Vec<u8>>> = rec
        .annotations
        .iter()
        .map(|a| {
            let latency = a.onset_s * fs + 1.0;
            let duration = a.duration_s.map_or(0.0, |d| d * fs);
            vec![mw::char_utf16("", &a.description), mw::scalar("", latency), mw::scalar("", duration)]
        })
        .collect();
    let mut vars = vec![
        mw::char_utf16("setname", &rec.recording_id),
        mw::char_utf16("filename", &set_name),
        mw::char_utf16("filepath", ""),
        mw::char_utf16("subject", &rec.subject.id),
        mw::scalar("nbchan", nbchan as f64),
        mw::scalar("trials", 1.0),
        mw::scalar("pnts", pnts as f64),
        mw::scalar("srate", fs),
        mw::scalar("xmin", 0.0),
        mw::scalar("xmax", pnts.saturating_sub(1) as f64 / fs),
        mw::char_utf16("data", &fdt_name),
        mw::char_utf16("datfile", &fdt_name),
        mw::char_utf16("ref", reference),
        mw::structure("chanlocs", &[1, nbchan], &["labels", "type", "X", "Y", "Z"], &chanlocs),
        mw::structure("event", &[1, events.len()], &["type", "latency", "duration"], &events),
    ];
    if let Some(t) = rec.start {
        let sec = t.second as f64 + t.nanos as f64 * 1e-9;
        let t0 = [t.year as f64, t.month as f64, t.day as f64, t.hour as f64, t.minute as f64, sec];
        vars.push(mw::structure("etc", &[1, 1], &["T0"], &[vec![mw::double("", &[1, 6], &t0)]]));
    }
    let bytes: Vec<Vec<u8>> = vars.iter().map(|v| mw::compressed(v)).collect();
    let file = mw::file(&bytes);
    crate::atomic::write_file(set, &file).map_err(|e| IoError::os(set, e))?;
    let size = file.len() as u64 + (nbchan * pnts * 4) as u64;
    Ok(EeglabFiles { set: set.to_path_buf(), fdt, bytes: size })
}
