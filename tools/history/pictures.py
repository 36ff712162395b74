"""Pictures of a history a reader takes in without scrolling a table: the step map (every
step of every case) and a plot of each confirmed step (time per release with its interval).
Both are SVG written here, so a page can inline them and a test can read their numbers back."""
import math
from html import escape

from benchmarks.cases import from_label

from ..reports.verdicts import result_of_logs


def version(tag):
    """'2.13.0' of the tag 'torch-2.13.0'."""
    return tag.split("-", 1)[1]


def cell_text(text):
    """A reason inside a table cell or a tooltip: one line, no pipes."""
    return text.splitlines()[0].replace("|", "/")[:120]


def _colour(ratio):
    """White at 1.0x, red when slower, blue when faster, full at 1.5x either way."""
    if not ratio > 0:
        return "#ffffff"
    x = max(-1.0, min(1.0, math.log(ratio) / math.log(1.5)))
    end = (215, 48, 39) if x > 0 else (69, 117, 180)
    r, g, b = (round(255 + (c - 255) * abs(x)) for c in end)
    return f"#{r:02x}{g:02x}{b:02x}"


def step_map(data, steps):
    """An SVG of every step of every case: one row per case, one column per step, colour the
    paired ratio, a black frame and ▲/▼ where the step is confirmed, hatched where a release
    did not measure the case. Each cell carries its numbers (data-*) and a tooltip."""
    names = {label: from_label(label).short + (" (control)" if data.controls[label] else "")
             for label in data.labels}
    cw, ch, top = 46, 18, 64
    left = round(6.3 * max(map(len, names.values()))) + 12  # 11 px sans-serif
    width, height = left + cw * len(steps) + 80, top + ch * len(data.labels) + 48
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="step-map" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           '<defs><pattern id="unmeasured" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#999999" stroke-width="2"/></pattern>'
           '</defs>']
    for j, step in enumerate(steps):
        x = left + cw * j + cw / 2
        out.append(f'<text x="{x}" y="{top - 6}" transform="rotate(-40 {x} {top - 6})">'
                   f'{escape(version(step.before))}→{escape(version(step.after))}</text>')
    for i, label in enumerate(data.labels):
        y = top + ch * i
        name = names[label]
        out.append(f'<text x="{left - 6}" y="{y + ch - 5}" text-anchor="end">'
                   f'{escape(name)}</text>')
        for j, step in enumerate(steps):
            r = step.pair[label]
            how = step.confirmed(label)
            x = left + cw * j
            name_step = f"{version(step.before)} → {version(step.after)}"
            if math.isnan(r.ratio):
                why = data.skip_reason(step.after, label) or data.skip_reason(step.before, label)
                tip = f"{from_label(label).short}, {name_step}: not measured" + (f" ({cell_text(why)})"
                                                                       if why else "")
                out.append(f'<rect class="cell unmeasured" data-case="{escape(label)}" '
                           f'data-step="{escape(name_step)}" x="{x}" y="{y}" width="{cw}" '
                           f'height="{ch}" fill="url(#unmeasured)" stroke="#ffffff">'
                           f'<title>{escape(tip)}</title></rect>')
                continue
            shown = (step.level[label] if how == "level" else r)
            tip = (f"{from_label(label).short}, {name_step}: {r.interval()}"
                   + (f" since {version(r.since)}" if r.since else "")
                   + (f"; confirmed by the {how}, {shown.ratio:.3f}x" if how else
                      "; not confirmed"))
            frame = 'stroke="#000000" stroke-width="2"' if how else 'stroke="#ffffff"'
            out.append(f'<rect class="cell{" confirmed" if how else ""}" '
                       f'data-case="{escape(label)}" data-step="{escape(name_step)}" '
                       f'data-ratio="{r.ratio:.4f}" x="{x}" y="{y}" width="{cw}" '
                       f'height="{ch}" fill="{_colour(r.ratio)}" {frame}>'
                       f'<title>{escape(tip)}</title></rect>')
            if how:
                out.append(f'<text x="{x + cw / 2}" y="{y + ch - 5}" text-anchor="middle">'
                           f'{"▲" if shown.ratio > 1 else "▼"}</text>')
    y = top + ch * len(data.labels) + 20
    out.append(f'<text x="{left}" y="{y}">colour: the paired ratio to the release before '
               '(red slower, blue faster, full at 1.5x)</text>')
    out.append(f'<text x="{left}" y="{y + 14}">framed ▲/▼: a confirmed step; hatched: not '
               'measured</text></svg>')
    return "\n".join(out)


def _interval(logs):
    """(geometric mean, low, high) of one release's round values: the verdicts' 95 %
    t-interval (the point alone where there are too few rounds for one)."""
    r = result_of_logs("", logs)
    return (r.ratio, r.ratio, r.ratio) if math.isnan(r.low) else (r.ratio, r.low, r.high)


def confirmed_plots(data, confirmed, per_row=3):
    """An SVG of small plots, one per confirmed step: the case's time at every release (the
    geometric mean of the round values with its 95 % interval, log scale), the two releases
    of the step in red (slower) or blue (faster). None when nothing is confirmed."""
    if not confirmed:
        return None
    w, h, pad = 300, 170, 36
    rows = math.ceil(len(confirmed) / per_row)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="step-plots" '
           f'width="{w * min(per_row, len(confirmed))}" height="{h * rows}" '
           'font-family="sans-serif" font-size="10">']
    for k, step in enumerate(confirmed):
        ox, oy = w * (k % per_row), h * (k // per_row)
        label = step["label"]
        points = {}
        for tag in data.tags:
            logs = list(data.logs(tag, label).values())
            if logs:
                points[tag] = _interval(logs)
        if not points:
            continue
        lo = math.log(min(p[1] for p in points.values()))
        hi = math.log(max(p[2] for p in points.values()))
        span = (hi - lo) or 1.0
        x_of = {tag: ox + pad + i * (w - pad - 12) / max(1, len(data.tags) - 1)
                for i, tag in enumerate(data.tags)}

        def y_of(v):
            return oy + h - 34 - (math.log(v) - lo) / span * (h - 66)

        colour = "#d73027" if step["ratio"] > 1 else "#4575b4"
        title = (f"{from_label(label).short}: {version(step['before'])} → "
                 f"{version(step['after'])}, {step['ratio']:.3f}x")
        out.append(f'<g class="step-plot" data-case="{escape(label)}" '
                   f'data-step="{escape(step["before"])} {escape(step["after"])}">'
                   f'<text x="{ox + 6}" y="{oy + 14}">{escape(title)}</text>')
        for tag, (mid, low, high) in points.items():
            c = colour if tag in (step["before"], step["after"]) else "#555555"
            x = x_of[tag]
            out.append(f'<line x1="{x:.1f}" y1="{y_of(low):.1f}" x2="{x:.1f}" '
                       f'y2="{y_of(high):.1f}" stroke="{c}"/>'
                       f'<circle class="release" data-release="{escape(tag)}" '
                       f'data-time="{mid:.6g}" cx="{x:.1f}" cy="{y_of(mid):.1f}" r="3" '
                       f'fill="{c}"><title>{escape(version(tag))}: {mid:.4g} s '
                       f'[{low:.4g}, {high:.4g}]</title></circle>')
        for tag in (data.tags[0], data.tags[-1]):
            out.append(f'<text x="{x_of[tag]:.1f}" y="{oy + h - 18}" text-anchor="middle">'
                       f'{escape(version(tag))}</text>')
        for v in (math.exp(lo), math.exp(hi)):
            out.append(f'<text x="{ox + 2}" y="{y_of(v) + 3:.1f}">{v:.3g} s</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
