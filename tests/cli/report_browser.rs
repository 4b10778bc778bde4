//! The report in a real browser: headless Chromium opens a report of a small
//! run; the screenshot must not be blank, and the DOM after the page's own
//! script ran must show every figure with a non-zero size.
//!
//! Without Chromium the test is skipped with a message, unless `CI=true`,
//! where it fails (`.ci/run` installs the `chromium` package). With
//! `EEGLENS_SCREENSHOT=FILE.png` the screenshot is also copied there (the
//! README's picture comes from here).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::report::{interpret, trained_run};
use crate::util::tmpdir;

/// Browser names tried, in order.
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];
/// Distinct colours a rendered report shows at least (text, lines, colour maps).
const MIN_COLOURS: usize = 64;
/// How long one browser run may take.
const BROWSER_DEADLINE: Duration = Duration::from_secs(180);
/// Share of non-background pixels a rendered report has at least.
const MIN_INK: f64 = 0.01;

fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    BROWSERS.iter().find_map(|b| std::env::split_paths(&path).map(|d| d.join(b)).find(|p| p.is_file()))
}

fn browser(exe: &Path, profile: &Path, extra: &[String], page: &Path) -> std::process::Output {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,2000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend_from_slice(extra);
    args.push(format!("file://{}", page.display()));
    // Output to files and a deadline, so that a hung browser fails the test instead of hanging CI.
    let (out, err) = (profile.with_extension("stdout"), profile.with_extension("stderr"));
    let mut child = Command::new(exe)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .spawn()
        .expect("the browser starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the browser") {
            break status;
        }
        if start.elapsed() > BROWSER_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser did not finish within {BROWSER_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&out).expect("browser stdout"),
        stderr: std::fs::read(&err).expect("browser stderr"),
    }
}

/// Attribute `name` of the first tag in `tag` (`<figure data-figure="x" ...>`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..].split('"').next()?.to_string())
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(exe) = find_browser() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but no Chromium ({BROWSERS:?}) on PATH: .ci/run should install the `chromium` package");
        }
        eprintln!(
            "SKIPPED report_renders_in_headless_chromium: no Chromium on PATH (apt-get install chromium)"
        );
        return;
    };
    let dir = tmpdir("browser");
    let run = trained_run(&dir.0);
    let _ = interpret(&run);
    let input = eeglens_report::load_run(&run, None).expect("the run reads");
    let rendered = eeglens_report::render(&input);
    let page = dir.0.join("report.html");
    std::fs::write(&page, &rendered.html).expect("write the page");

    // The DOM after the page's script recorded every figure's rendered box.
    let o = browser(&exe, &dir.0.join("profile-dom"), &["--dump-dom".into()], &page);
    assert!(o.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    let n = rendered.figures.len();
    assert!(n >= 20, "{n} figures");
    // The sections a reviewer reads first: the data's own class spectra (a band of one SEM per
    // class and channel group) and both ROC curves; the contents link every section.
    for id in ["data-spectra", "roc-subjects", "roc-windows"] {
        assert!(rendered.figures.iter().any(|f| f == id), "no figure {id} in {:?}", rendered.figures);
    }
    let spectra = &dom[dom.find("data-figure=\"data-spectra\"").expect("the class spectra in the DOM")..];
    let spectra = &spectra[..spectra.find("</figure>").expect("figure end")];
    assert!(spectra.matches("class=\"sem\"").count() >= 4, "SEM bands are drawn");
    let nav = &dom[dom.find("<nav class=\"toc\"").expect("a table of contents")..];
    for id in ["data-spectra", "baseline", "training", "interpretation", "provenance"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "section {id}");
        assert!(
            nav[..nav.find("</nav>").expect("nav end")].contains(&format!("href=\"#{id}\"")),
            "link to {id}"
        );
    }
    assert!(dom.contains(&format!("data-figures-rendered=\"{n}\"")), "not every figure has a box");
    for id in &rendered.figures {
        let at = dom
            .find(&format!("data-figure=\"{id}\""))
            .unwrap_or_else(|| panic!("figure {id} not in the DOM"));
        let start = dom[..at].rfind("<figure").expect("a figure tag");
        let tag = &dom[start..start + dom[start..].find('>').expect("tag end")];
        let num = |a: &str| attr(tag, a).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        assert!(num("data-width") > 50.0 && num("data-height") > 50.0, "figure {id} renders at {tag}");
        assert!(num("data-elements") > 10.0, "figure {id} has too few SVG elements: {tag}");
    }
    // Nothing the browser could not show: no parse-error element, no broken image.
    assert!(!dom.contains("parsererror"));
    assert!(!dom.contains("<img"));

    // The screenshot: decoded, with ink and many colours.
    let shot = dir.0.join("shot.png");
    let o = browser(&exe, &dir.0.join("profile-shot"), &[format!("--screenshot={}", shot.display())], &page);
    assert!(o.status.success(), "chromium --screenshot failed: {}", String::from_utf8_lossy(&o.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).expect("screenshot")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    assert!(info.width >= 1000 && info.height >= 1000, "{}x{}", info.width, info.height);
    let bpp = info.color_type.samples();
    assert!(bpp >= 3, "an RGB screenshot");
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks_exact(bpp).collect();
    let mut colours: Vec<u32> =
        pixels.iter().map(|p| (p[0] as u32) << 16 | (p[1] as u32) << 8 | p[2] as u32).collect();
    let background = 0xffffffu32;
    let ink = colours.iter().filter(|&&c| c != background).count() as f64 / colours.len() as f64;
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() >= MIN_COLOURS, "only {} colours: a blank page?", colours.len());
    assert!(ink >= MIN_INK, "only {:.1}% of the pixels are not background", 100.0 * ink);
    if let Some(to) = std::env::var_os("EEGLENS_SCREENSHOT") {
        std::fs::copy(&shot, &to).expect("copy the screenshot");
    }
}
