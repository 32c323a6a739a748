//! Charts drawn by the server as inline SVG: no JavaScript library, no outside service.

/// Text for SVG/HTML: the five special characters escaped.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Labels longer than this many characters are shortened with "…" (the full label is in
/// the bar's tooltip): at the phone's type size no more fit beside the bars.
const LABEL_CHARS: usize = 6;

fn short_label(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let kept: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{kept}…")
    }
}

/// The opening `<svg>` with its title. Type sizes are in the stylesheet (larger on a phone,
/// where the drawing is scaled down), so the layout leaves room for the phone's sizes.
fn open_svg(title: &str, width: usize, height: usize) -> String {
    format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title>{t}</title><text x=\"0\" y=\"22\" class=\"chart-title\">{t}</text>",
        t = escape(title),
    )
}

/// Horizontal bars, one per item, longest first as given.
pub fn horizontal_bars(title: &str, items: &[(String, i64)], unit: &str) -> String {
    let (row, top) = (30, 36);
    let label_width = 150;
    let bar_width = 310;
    let height = top + 6 + row * items.len().max(1);
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut svg = open_svg(title, label_width + bar_width + 80, height);
    if items.is_empty() {
        svg.push_str("<text x=\"0\" y=\"58\" class=\"chart-empty\">暂无数据</text>");
    }
    for (i, (label, value)) in items.iter().enumerate() {
        let y = top + i * row;
        let width = (*value as f64 / max as f64 * bar_width as f64).round() as i64;
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"chart-label\">{short}</text>\
             <rect x=\"{label_width}\" y=\"{y}\" width=\"{width}\" height=\"20\" class=\"bar\"><title>{label}：{value}{unit}</title></rect>\
             <text x=\"{vx}\" y=\"{ty}\" class=\"chart-value\">{value}</text>",
            lx = label_width - 8,
            ty = y + 17,
            vx = label_width as i64 + width + 6,
            short = escape(&short_label(label)),
            label = escape(label),
            unit = escape(unit),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars for the twelve months.
pub fn monthly_bars(title: &str, values: &[(String, i64)], unit: &str) -> String {
    // `top` leaves room for the title and, under it, the tallest bar's number (22 px on a
    // phone).
    let (width, height, top, bottom) = (520, 220, 56, 28);
    let plot = height - top - bottom;
    let max = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let slot = (width - 20) / values.len().max(1);
    let mut svg = open_svg(title, width, height);
    for (i, (month, value)) in values.iter().enumerate() {
        let bar = (*value as f64 / max as f64 * plot as f64).round() as usize;
        let x = 10 + i * slot;
        let y = top + plot - bar;
        // On a phone only the month's number fits under its bar: "月" is a tspan the
        // stylesheet hides there.
        svg.push_str(&format!(
            "<rect x=\"{bx}\" y=\"{y}\" width=\"{bw}\" height=\"{bar}\" class=\"bar\"><title>{m}月：{value}{unit}</title></rect>\
             <text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\" class=\"chart-label\">{m}<tspan class=\"month-unit\">月</tspan></text>\
             <text x=\"{cx}\" y=\"{vy}\" text-anchor=\"middle\" class=\"chart-value\">{shown}</text>",
            bx = x + 4,
            bw = slot.saturating_sub(8),
            cx = x + slot / 2,
            ly = height - 6,
            // Above its bar, the tallest one's too.
            vy = y - 4,
            m = month.trim_start_matches('0'),
            unit = escape(unit),
            shown = if *value > 0 { value.to_string() } else { String::new() },
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale() {
        let svg = horizontal_bars("资料", &[("<b>村".into(), 10), ("乙村".into(), 5)], "份");
        assert!(svg.contains("&lt;b&gt;村") && !svg.contains("<b>村"));
        assert!(svg.contains("width=\"310\"") && svg.contains("width=\"155\""));
        let long = horizontal_bars("资料", &[("龙凤场镇龙凤社区居委会".into(), 1)], "份");
        assert!(long.contains(">龙凤场镇龙…</text>"), "{long}");
        assert!(
            long.contains("<title>龙凤场镇龙凤社区居委会：1份</title>"),
            "{long}"
        );
        let months: Vec<(String, i64)> = (1..=12).map(|m| (format!("{m:02}"), m)).collect();
        let monthly = monthly_bars("月", &months, "场");
        assert_eq!(monthly.matches("<rect").count(), 12);
        // The tallest bar's number stands above the bar (its top is at y=56), not on it.
        assert!(monthly.contains("y=\"56\" width="), "{monthly}");
        assert!(
            monthly.contains("y=\"52\" text-anchor=\"middle\" class=\"chart-value\">12<"),
            "{monthly}"
        );
    }
}
