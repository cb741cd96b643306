package io.machxp.trace;

/** The few SVG elements a {@link SequenceChart} draws, with its style sheet; text is escaped. */
final class Svg {
    private static final String STYLE = """
            <style>
              .title { font: bold 16px sans-serif; fill: #222; }
              .head { fill: #eef3fb; stroke: #36c; }
              text.head { font: bold 13px sans-serif; fill: #124; stroke: none; }
              .life { stroke: #36c; stroke-width: 1.5; stroke-dasharray: 6 4; }
              .grid { stroke: #eee; }
              .time { font: 11px monospace; fill: #555; }
              .xp { stroke: #222; stroke-width: 1.4; marker-end: url(#arrow); }
              .page { stroke: #c60; stroke-width: 2.2; }
              .label { font: 12px sans-serif; fill: #111; paint-order: stroke; stroke: white; stroke-width: 3px; }
              .detail { font: 10px sans-serif; fill: #666; paint-order: stroke; stroke: white; stroke-width: 3px; }
              .note { fill: #fffbe6; stroke: #b9a; }
              .boost { fill: #fde4e4; stroke: #c33; }
              text.note, text.boost { font: 11px sans-serif; fill: #333; stroke: none; }
            </style>
            """;
    private final StringBuilder out = new StringBuilder();

    Svg(int width, int height) {
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(width).append(' ').append(height).append("\">\n")
                .append(STYLE)
                .append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" ")
                .append("markerWidth=\"9\" markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\">")
                .append("<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#222\"/>")
                .append("</marker></defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    }

    void text(double x, double y, String anchor, String cls, String text) {
        out.append("<text x=\"").append(SequenceChart.fmt(x)).append("\" y=\"").append(SequenceChart.fmt(y))
                .append("\" text-anchor=\"").append(anchor).append("\" class=\"").append(cls).append("\">")
                .append(escape(text)).append("</text>\n");
    }

    void rect(double x, double y, double w, double h, String cls) {
        out.append("<rect x=\"").append(SequenceChart.fmt(x)).append("\" y=\"").append(SequenceChart.fmt(y))
                .append("\" width=\"").append(SequenceChart.fmt(w)).append("\" height=\"").append(SequenceChart.fmt(h))
                .append("\" rx=\"4\" class=\"").append(cls).append("\"/>\n");
    }

    void line(double x1, double y1, double x2, double y2, String cls) {
        out.append("<line x1=\"").append(SequenceChart.fmt(x1)).append("\" y1=\"").append(SequenceChart.fmt(y1))
                .append("\" x2=\"").append(SequenceChart.fmt(x2)).append("\" y2=\"").append(SequenceChart.fmt(y2))
                .append("\" class=\"").append(cls).append("\"/>\n");
    }

    void arrow(double x1, double y1, double x2, double y2, String cls) {
        line(x1, y1, x2, y2, cls);
    }

    /** A note beside a lifeline at height y, to its right or left; returns its width. */
    double note(double x, double y, boolean right, String text, String cls) {
        double w = 8 + 6.2 * text.length();
        double left = right ? x + 6 : x - 6 - w;
        rect(left, y - 9, w, 18, cls);
        text(left + 4, y + 4, "start", cls, text);
        return w;
    }

    String end() {
        return out.append("</svg>\n").toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
