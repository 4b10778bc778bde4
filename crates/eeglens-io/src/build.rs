//! Which build of eeglens wrote an output: the package version and a hash of
//! the running executable. Every build of one version shares the version, so
//! the hash is what tells two builds apart (one may change a default, the
//! chance verdict or a reading while every setting stays the same).

use std::path::Path;

/// The build of eeglens running now: the package version and the first 12
/// hex digits of the SHA-256 of the running executable (`version+unknown`
/// when the executable cannot be read). Computed once per process.
pub fn build_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let version = env!("CARGO_PKG_VERSION");
        match std::env::current_exe().and_then(|p| sha256_file(&p)) {
            Ok((h, _)) => format!("{version}+{}", &h[..12]),
            Err(_) => format!("{version}+unknown"),
        }
    })
}

/// SHA-256 of a file's bytes (lower-case hex) and how many bytes were read.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((h.finalize().iter().map(|b| format!("{b:02x}")).collect(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_id_is_the_version_and_a_hash_of_the_executable() {
        let id = build_id();
        let (version, hash) = id.split_once('+').expect("version+hash");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        assert_eq!(hash.len(), 12, "{id}");
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        let exe = std::env::current_exe().unwrap();
        assert_eq!(&sha256_file(&exe).unwrap().0[..12], hash);
        // Independent check of the hash itself: SHA-256 of "abc".
        let p = std::env::temp_dir().join(format!("eeglens-io-abc-{}", std::process::id()));
        std::fs::write(&p, b"abc").unwrap();
        let h = sha256_file(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        assert_eq!(h, ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string(), 3));
    }
}
