"""The pass-rate-across-runs chart of the runs list: inline SVG built on the server, no JavaScript."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 220, 40, 150, 12, 28


def pass_rate_chart(series: list[dict], *, title: str) -> SafeString:
    """One polyline per scorer: x = the run (oldest to newest), y = its pass rate; a dot per run with a tooltip."""
    if not series:
        return mark_safe("")
    scorers = list(dict.fromkeys(name for run in series for name in run["rates"]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(series) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step if len(series) > 1 else LEFT + plot_w / 2

    def y(rate: float) -> float:
        return TOP + (1 - rate) * plot_h

    parts = [
        format_html('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>', LEFT, y(v), LEFT + plot_w, y(v))
        for v in (0, 0.25, 0.5, 0.75, 1)
    ]
    parts += [
        format_html('<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#666">{}%</text>', LEFT - 4,
                    y(v) + 3, int(v * 100))
        for v in (0, 0.5, 1)
    ]  # fmt: skip
    for i, run in enumerate(series):
        colour = "#dc2626" if run["verdict"] == "fail" else "#666"
        parts.append(
            format_html('<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="{}">{}</text>',
                        x(i), HEIGHT - 12, colour, run["id"])
        )  # fmt: skip
    for index, name in enumerate(scorers):
        colour = COLOURS[index % len(COLOURS)]
        points = [(x(i), y(run["rates"][name]), run) for i, run in enumerate(series) if name in run["rates"]]
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                colour,
                " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points),
            )
        )
        parts += [
            format_html(
                '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} v{} {}: {}</title></circle>',
                f"{px:.1f}", f"{py:.1f}", colour, run["label"], run["version"], name, f"{run['rates'][name]:.1%}",
            )
            for px, py, run in points
        ]  # fmt: skip
        parts.append(
            format_html('<text x="{}" y="{}" font-size="11" fill="{}">{}</text>', LEFT + plot_w + 10,
                        TOP + 12 + 14 * index, colour, name)
        )  # fmt: skip
    body = format_html_join("", "{}", ((part,) for part in parts))
    return format_html(
        '<figure class="pass-rate-chart" style="margin:0 0 1em 0"><figcaption><strong>{}</strong> (run ids below; '
        'red ids failed their gates)</figcaption><svg xmlns="http://www.w3.org/2000/svg" role="img" width="{}" '
        'height="{}" viewBox="0 0 {} {}" aria-label="{}">{}</svg></figure>',
        title, WIDTH, HEIGHT, WIDTH, HEIGHT, title, body,
    )  # fmt: skip
