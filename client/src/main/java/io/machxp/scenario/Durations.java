package io.machxp.scenario;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations in scenario files and timelines: "50ms", "1.5s", "200us", "0", "750ns". */
public final class Durations {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s)");

    private Durations() {}

    /** Nanoseconds; throws {@link ScenarioException} naming {@code where} if it is not a duration. */
    public static long parse(String text, String where) {
        String t = text.trim();
        if (t.equals("0")) {
            return 0;
        }
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            throw new ScenarioException(where + ": '" + text + "' is not a duration; write it like 50ms, 200us, 1.5s or 0");
        }
        double value = Double.parseDouble(m.group(1));
        double unit = switch (m.group(2)) {
            case "ns" -> 1;
            case "us", "µs" -> 1e3;
            case "ms" -> 1e6;
            default -> 1e9;
        };
        double nanos = value * unit;
        if (nanos > Long.MAX_VALUE / 2) {
            throw new ScenarioException(where + ": '" + text + "' is too long");
        }
        return Math.round(nanos);
    }

    /** A readable form: "0", "850ns", "12.5us", "3.001ms", "2.5s". */
    public static String format(long nanos) {
        if (nanos == 0) {
            return "0";
        }
        long abs = Math.abs(nanos);
        if (abs < 1_000) {
            return nanos + "ns";
        }
        if (abs < 1_000_000) {
            return trim(nanos / 1e3) + "us";
        }
        if (abs < 1_000_000_000) {
            return trim(nanos / 1e6) + "ms";
        }
        return trim(nanos / 1e9) + "s";
    }

    private static String trim(double v) {
        String s = String.format(java.util.Locale.ROOT, "%.3f", v);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
