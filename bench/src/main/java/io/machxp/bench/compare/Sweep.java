package io.machxp.bench.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A sweep PARAM=FROM..TO[:STEP] of a workload's parameter. */
final class Sweep {
    private static final Pattern SWEEP = Pattern.compile("([a-z-]+)=([0-9.]+)\\.\\.([0-9.]+)(?::([0-9.]+))?");

    private Sweep() {}

    static List<Double> points(String sweep, String workload) {
        if (sweep == null) {
            return List.of(workload.equals("zipf") ? 1.0 : 0.9);
        }
        Matcher m = SWEEP.matcher(sweep);
        if (!m.matches()) {
            throw new IllegalArgumentException("--sweep takes PARAM=FROM..TO[:STEP], like locality=0..1:0.25, not '"
                    + sweep + "'");
        }
        String param = m.group(1);
        String expected = workload.equals("zipf") ? "s" : "locality";
        if (!param.equals(expected) || workload.equals("alternation") || workload.equals("convoy")) {
            throw new IllegalArgumentException("workload " + workload + (workload.equals("alternation")
                    || workload.equals("convoy") ? " has no parameter to sweep" : " sweeps " + expected + ", not " + param));
        }
        double from = Double.parseDouble(m.group(2));
        double to = Double.parseDouble(m.group(3));
        double step = m.group(4) == null ? (to - from) / 4 : Double.parseDouble(m.group(4));
        if (step <= 0 || to < from) {
            throw new IllegalArgumentException("--sweep needs FROM <= TO and a step above 0");
        }
        List<Double> points = new ArrayList<>();
        for (int i = 0; from + i * step <= to + 1e-9; i++) {
            points.add(Math.round((from + i * step) * 1e6) / 1e6);
        }
        return points;
    }

    static String name(String sweep, String workload) {
        return sweep == null ? "param" : sweep.substring(0, sweep.indexOf('='));
    }
}
