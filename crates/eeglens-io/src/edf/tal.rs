//! Time-stamped Annotation Lists (TALs), the content of an `EDF Annotations` signal.
//!
//! A TAL is `+Onset[\x15Duration]\x14Text\x14[Text\x14...]\x00`: the onset is a signed decimal
//! number of seconds relative to the header start time, the duration an unsigned decimal, each text
//! is UTF-8. Unused bytes of the signal are `\x00`. The first TAL of each data record's first
//! annotation signal starts with an empty text: the time-keeping annotation giving the record's
//! onset.

/// One parsed TAL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tal {
    pub onset: f64,
    pub duration: Option<f64>,
    pub texts: Vec<String>,
}

fn number(s: &[u8], signed: bool) -> Option<f64> {
    let (sign_ok, body) = match s.first() {
        Some(b'+') | Some(b'-') if signed => (true, &s[1..]),
        _ => (!signed, s),
    };
    if !sign_ok || body.is_empty() || body[0] == b'.' && body.len() == 1 {
        return None;
    }
    let mut dots = 0;
    for &b in body {
        match b {
            b'0'..=b'9' => {}
            b'.' => dots += 1,
            _ => return None,
        }
    }
    if dots > 1 {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Parses every TAL in `bytes` (one annotation signal of one data record). Malformed TALs are
/// skipped; each yields a message in the second vector naming its byte offset in `bytes`.
pub(crate) fn parse(bytes: &[u8]) -> (Vec<Tal>, Vec<String>) {
    let mut tals = Vec::new();
    let mut problems = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        if bytes[pos] == 0 {
            pos += 1;
            continue;
        }
        let end = bytes[pos..].iter().position(|&b| b == 0).map_or(bytes.len(), |e| pos + e);
        let tal = &bytes[pos..end];
        match parse_one(tal) {
            Ok(t) => tals.push(t),
            Err(why) => problems.push(format!(
                "malformed annotation at byte {pos} of the annotation signal ({why}): {:?}",
                String::from_utf8_lossy(&tal[..tal.len().min(60)])
            )),
        }
        pos = end + 1;
    }
    (tals, problems)
}

fn parse_one(tal: &[u8]) -> Result<Tal, &'static str> {
    let head_end = tal.iter().position(|&b| b == 0x14).ok_or("no 0x14 after the onset")?;
    let head = &tal[..head_end];
    let (onset_b, dur_b) = match head.iter().position(|&b| b == 0x15) {
        Some(p) => (&head[..p], Some(&head[p + 1..])),
        None => (head, None),
    };
    let onset = number(onset_b, true).ok_or("onset is not +/- followed by a decimal number")?;
    let duration = match dur_b {
        Some(d) => Some(number(d, false).ok_or("duration is not an unsigned decimal number")?),
        None => None,
    };
    let rest = &tal[head_end + 1..];
    let mut texts = Vec::new();
    if !rest.is_empty() {
        if rest.last() != Some(&0x14) {
            return Err("the last annotation text is not terminated by 0x14");
        }
        for t in rest[..rest.len() - 1].split(|&b| b == 0x14) {
            texts.push(String::from_utf8_lossy(t).into_owned());
        }
    }
    Ok(Tal { onset, duration, texts })
}

/// Formats a number of seconds the way TALs want it: plain decimal, no exponent, no trailing zeros.
pub(crate) fn format_seconds(s: f64) -> String {
    // Rust's shortest round-trip Display never uses an exponent for f64.
    let mut out = format!("{}", s.abs());
    if out.contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
    out
}

/// Encodes one TAL (onset relative to the header start time).
pub(crate) fn encode(onset: f64, duration: Option<f64>, texts: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    v.push(if onset < 0.0 { b'-' } else { b'+' });
    v.extend_from_slice(format_seconds(onset).as_bytes());
    if let Some(d) = duration {
        v.push(0x15);
        v.extend_from_slice(format_seconds(d.max(0.0)).as_bytes());
    }
    v.push(0x14);
    for t in texts {
        // The separators cannot appear inside a text.
        v.extend(t.bytes().map(|b| if b == 0x14 || b == 0x15 || b == 0 { b' ' } else { b }));
        v.push(0x14);
    }
    v.push(0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_record() {
        // From the EDF+ specification, section 2.2.4 (with the time-keeping TAL first).
        let b = b"+180\x14Lights off\x14Close door\x14\x00+1800.2\x1525.5\x14Apnea\x14\x00\x00\x00";
        let (t, p) = parse(b);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].texts, vec!["Lights off", "Close door"]);
        assert_eq!(t[1].duration, Some(25.5));
        assert_eq!(t[1].onset, 1800.2);
    }

    #[test]
    fn timekeeping_has_one_empty_text() {
        let (t, _) = parse(b"+0.394531\x14\x14\x00");
        assert_eq!(t[0].texts, vec![String::new()]);
        assert_eq!(t[0].onset, 0.394531);
    }

    #[test]
    fn malformed_tal_is_reported_and_the_rest_kept() {
        let (t, p) = parse(b"+0\x14\x14\x00garbage\x14x\x14\x00-2.5\x14before\x14\x00+1..2\x14x\x14\x00");
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].onset, -2.5);
        assert_eq!(p.len(), 2);
        assert!(p[0].contains("byte 5"), "{}", p[0]);
    }

    #[test]
    fn encode_parse_roundtrip() {
        let b = encode(12.25, Some(0.5), &["spike \u{3bc}V"]);
        let (t, p) = parse(&b);
        assert!(p.is_empty());
        assert_eq!(t[0], Tal { onset: 12.25, duration: Some(0.5), texts: vec!["spike \u{3bc}V".into()] });
    }
}
