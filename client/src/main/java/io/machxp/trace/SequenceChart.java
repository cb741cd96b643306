package io.machxp.trace;

import io.machxp.sim.SimCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * Renders an {@link XpTrace} as a message sequence chart in SVG: one vertical lifeline per kernel
 * and one for the pager (the pager in the middle), time downwards, each XP message an arrow from
 * its sender at the time it was sent to its receiver at the time it arrived, labelled with its
 * routine and fields, and the futex events of scenario threads (lock, acquired, unlocked, boosts)
 * as notes on their kernel's lifeline. Time runs by event, not to scale: each distinct time
 * gets a row, and the left margin says which time it is (a 50 ms critical section and a 100 µs
 * message are one row each).
 */
public final class SequenceChart {
    /** The thread events a chart shows as notes. */
    static final Set<String> NOTED = Set.of("lock", "acquired", "unlock", "unlocked", "trylock", "busy", "boost",
            "deboost", "owner-died", "lock-failed");
    private static final int ROW = 40;
    private static final int COLUMN = 300;
    /** Time labels, then room for the notes of the leftmost lifeline. */
    private static final int LEFT = 110 + 230;
    private static final int RIGHT = 230;
    private static final java.util.regex.Pattern NOISE =
            java.util.regex.Pattern.compile("\\b(object_id|fencing_token|length|version)=\\S+\\s*");
    private static final int TOP = 80;

    /**
     * What to draw.
     *
     * @param offset only messages about this offset's page (the futex word and its page), or -1 for all
     * @param pageSize the page size, to tell which page messages belong to the futex
     * @param from only what happens from this time on (trace clock)
     * @param to and up to this time
     */
    public record Window(long offset, int pageSize, long from, long to) {
        public static Window all() {
            return new Window(-1, 4096, Long.MIN_VALUE, Long.MAX_VALUE);
        }

        boolean shows(XpTrace.Xp m) {
            boolean about = offset < 0 || (m.offset() >= 0 && m.offset() / pageSize == offset / pageSize);
            return about && m.sent() >= from && m.arrives() <= to && !m.routine().endsWith("keepalive");
        }

        boolean shows(XpTrace.Mark k) {
            return NOTED.contains(k.event()) && k.time() >= from && k.time() <= to;
        }
    }

    private SequenceChart() {}

    /** The chart as an SVG document; {@code timeLabel} formats a trace time for the left margin. */
    public static String svg(XpTrace trace, Window window, LongFunction<String> timeLabel) {
        List<String> lanes = lanes(trace.nodes());
        List<XpTrace.Xp> messages = trace.messages().stream().filter(window::shows).toList();
        List<XpTrace.Mark> marks = trace.marks().stream().filter(window::shows).toList();
        TreeSet<Long> times = new TreeSet<>();
        messages.forEach(m -> {
            times.add(m.sent());
            times.add(m.arrives());
        });
        marks.forEach(k -> times.add(k.time()));
        List<Long> rows = new ArrayList<>(times);
        int width = LEFT + COLUMN * lanes.size() + RIGHT;
        int height = TOP + ROW * (rows.size() + 1);
        Svg svg = new Svg(width, height);
        svg.text(width / 2.0, 24, "middle", "title", trace.title());
        for (int i = 0; i < lanes.size(); i++) {
            double x = laneX(i);
            String lane = lanes.get(i);
            svg.rect(x - 60, 38, 120, 26, "head");
            svg.text(x, 56, "middle", "head", lane.equals(SimCluster.PAGER) ? "pager" : "kernel " + lane);
            svg.line(x, 64, x, height - 10, "life");
        }
        for (int r = 0; r < rows.size(); r++) {
            svg.text(100, rowY(r) + 4, "end", "time", timeLabel.apply(rows.get(r)));
            svg.line(104, rowY(r), width - 10, rowY(r), "grid");
        }
        for (XpTrace.Xp m : messages) {
            double x1 = laneX(lanes.indexOf(m.from()));
            double x2 = laneX(lanes.indexOf(m.to()));
            double y1 = rowY(rows.indexOf(m.sent()));
            double y2 = rowY(rows.indexOf(m.arrives()));
            svg.arrow(x1, y1, x2, y2, m.pages() > 0 ? "xp page" : "xp");
            String label = m.routine() + (m.pages() > 0 ? " +" + m.pages() + (m.pages() == 1 ? " page" : " pages") : "");
            double lx = (x1 + x2) / 2;
            double ly = (y1 + y2) / 2 - 5;
            svg.text(lx, ly, "middle", "label", label);
            String detail = NOISE.matcher(m.detail()).replaceAll("").trim();
            if (!detail.isEmpty()) {
                svg.text(lx, ly + 13, "middle", "detail", detail);
            }
        }
        java.util.Map<String, Double> used = new java.util.HashMap<>();
        for (XpTrace.Mark k : marks) {
            int lane = lanes.indexOf(k.node());
            int row = rows.indexOf(k.time());
            boolean right = lane > 0 || lanes.size() == 1;
            String text = k.thread() + " " + k.event() + " " + shortDetail(k.detail());
            // notes of one lane and row stand side by side, away from the lifeline
            double shift = used.getOrDefault(lane + "/" + row, 0.0);
            double w = svg.note(laneX(lane) + (right ? shift : -shift), rowY(row), right, text,
                    k.event().contains("boost") ? "boost" : "note");
            used.put(lane + "/" + row, shift + w + 4);
        }
        return svg.end();
    }

    /** Kernels on both sides of the pager, in the order they first appeared. */
    static List<String> lanes(List<String> nodes) {
        List<String> kernels = nodes.stream().filter(n -> !n.equals(SimCluster.PAGER)).toList();
        List<String> lanes = new ArrayList<>(kernels.subList(0, (kernels.size() + 1) / 2));
        lanes.add(SimCluster.PAGER);
        lanes.addAll(kernels.subList((kernels.size() + 1) / 2, kernels.size()));
        return lanes;
    }

    private static String shortDetail(String detail) {
        int after = detail.indexOf(" after ");
        String d = after > 0 ? detail.substring(0, after) : detail;
        return d.length() > 32 ? d.substring(0, 31) + "…" : d;
    }

    private static double laneX(int lane) {
        return LEFT + COLUMN / 2.0 + lane * COLUMN;
    }

    private static double rowY(int row) {
        return TOP + ROW * (row + 0.5);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
