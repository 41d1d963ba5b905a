//! A self-contained SVG of a run: the graph (positions and edges) with
//! each node coloured by a score from red (0) to green (1), grey when it
//! has none, and beside it the cumulative distribution of delivery
//! latencies. Numbers are printed with fixed precision, so the same run
//! gives the same bytes.

use std::fmt::Write;

use super::topology::Topology;

const GRAPH: f64 = 560.0;
const MARGIN: f64 = 20.0;
const CDF_LEFT: f64 = 640.0;
const CDF_SIZE: f64 = 220.0;
const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 640.0;

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct Plot<'a> {
    /// Positions and edges.
    pub topology: &'a Topology,
    /// One score per node in 0..=1 (or None), e.g. its delivery ratio.
    pub scores: &'a [Option<f64>],
    /// What the score means (shown in the legend).
    pub score_label: &'a str,
    /// Delivery latencies, ms, ascending.
    pub latencies_ms: &'a [u64],
    /// Title lines (the scenario and its figures).
    pub title: &'a [String],
}

fn colour(score: Option<f64>) -> String {
    match score {
        // Hue 0 (red) to 120 (green).
        Some(s) => format!("hsl({:.0},75%,42%)", s.clamp(0.0, 1.0) * 120.0),
        None => "#999".to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG document.
pub fn render(plot: &Plot<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    graph(&mut out, plot);
    cdf(&mut out, plot.latencies_ms);
    for (k, line) in plot.title.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{CDF_LEFT}" y="{:.0}">{}</text>"#,
            360.0 + 16.0 * k as f64,
            escape(line)
        );
    }
    let legend = 360.0 + 16.0 * plot.title.len() as f64 + 8.0;
    for (k, (label, score)) in [
        (format!("{} = 1", plot.score_label), Some(1.0)),
        (format!("{} = 0.5", plot.score_label), Some(0.5)),
        (format!("{} = 0", plot.score_label), Some(0.0)),
        ("no score".to_string(), None),
    ]
    .iter()
    .enumerate()
    {
        let y = legend + 16.0 * k as f64;
        let _ = writeln!(
            out,
            r#"<circle cx="{:.0}" cy="{:.0}" r="5" fill="{}"/><text x="{:.0}" y="{:.0}">{}</text>"#,
            CDF_LEFT + 5.0,
            y - 4.0,
            colour(*score),
            CDF_LEFT + 15.0,
            y,
            escape(label)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn graph(out: &mut String, plot: &Plot<'_>) {
    let positions = &plot.topology.positions;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in positions {
        (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
    }
    let span = (x1 - x0).max(y1 - y0);
    let scale = if span > 0.0 { GRAPH / span } else { 0.0 };
    let at = |i: usize| {
        let p = positions[i];
        (
            MARGIN + (p.x - x0) * scale,
            MARGIN + GRAPH - (p.y - y0) * scale,
        )
    };
    out.push_str(r##"<g stroke="#bbb" stroke-width="0.6">"##);
    for e in &plot.topology.edges {
        // One line per pair: the lower index draws it, or a one-way edge.
        let reverse = plot
            .topology
            .edges
            .binary_search_by_key(&(e.to, e.from), |r| (r.from, r.to))
            .is_ok();
        if e.from < e.to || !reverse {
            let ((ax, ay), (bx, by)) = (at(e.from), at(e.to));
            let _ = write!(
                out,
                r#"<line x1="{ax:.1}" y1="{ay:.1}" x2="{bx:.1}" y2="{by:.1}"/>"#
            );
        }
    }
    out.push_str("</g>\n<g>");
    let radius = if positions.len() > 300 { 2.5 } else { 4.5 };
    for i in 0..positions.len() {
        let (x, y) = at(i);
        let score = plot.scores.get(i).copied().flatten();
        let _ = write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{radius}" fill="{}"/>"#,
            colour(score)
        );
    }
    out.push_str("</g>\n");
}

fn cdf(out: &mut String, sorted: &[u64]) {
    let (left, top) = (CDF_LEFT, MARGIN + 20.0);
    let bottom = top + CDF_SIZE;
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="{:.0}">delivery latency CDF ({} samples)</text>"#,
        top - 8.0,
        sorted.len()
    );
    let _ = writeln!(
        out,
        r##"<rect x="{left}" y="{top}" width="{CDF_SIZE}" height="{CDF_SIZE}" fill="none" stroke="#444"/>"##
    );
    let max = sorted.last().copied().unwrap_or(0).max(1);
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="{:.0}">0</text><text x="{:.0}" y="{:.0}" text-anchor="end">{max} ms</text>"#,
        bottom + 14.0,
        left + CDF_SIZE,
        bottom + 14.0
    );
    if sorted.is_empty() {
        return;
    }
    let mut points = format!("{left:.1},{bottom:.1}");
    let n = sorted.len() as f64;
    for (k, &v) in sorted.iter().enumerate() {
        let x = left + v as f64 / max as f64 * CDF_SIZE;
        let (below, above) = (k as f64 / n, (k + 1) as f64 / n);
        let _ = write!(
            points,
            " {x:.1},{:.1} {x:.1},{:.1}",
            bottom - below * CDF_SIZE,
            bottom - above * CDF_SIZE
        );
    }
    let _ = writeln!(
        out,
        r##"<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>"##
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::topology::{line, EdgeConfig};

    #[test]
    fn a_plot_draws_every_pair_once_and_every_node() {
        let t = line(
            3,
            1.0,
            EdgeConfig {
                latency_ms: 1,
                loss_permille: 0,
            },
        );
        let title = ["a <b> & c".to_string()];
        let svg = render(&Plot {
            topology: &t,
            scores: &[Some(1.0), Some(0.0), None],
            score_label: "delivered",
            latencies_ms: &[10, 20],
            title: &title,
        });
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<line ").count(), 2);
        // Three nodes and four legend dots.
        assert_eq!(svg.matches("<circle ").count(), 7);
        assert!(svg.contains("hsl(120,75%,42%)") && svg.contains("hsl(0,75%,42%)"));
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert!(svg.contains("(2 samples)") && svg.contains(">20 ms<"));
        assert!(svg.contains("<polyline "));
    }
}
