package io.machxp.chaos.real;

import io.machxp.chaos.History;
import io.machxp.chaos.History.Kind;
import java.math.BigDecimal;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a history back from the text a run wrote (history.txt: {@code History.Entry#toString}, one a line). */
final class HistoryText {
    private static final Pattern HEAD = Pattern.compile("^\\s*\\d+\\s+(-?[0-9.]+) ms ");
    private static final Pattern FUTEX = Pattern.compile("^f(\\d+) ");
    private static final Pattern VALUE = Pattern.compile("^value=(-?\\d+) ");
    private static final Pattern STALL = Pattern.compile("^([0-9.]+) ms ");

    private HistoryText() {}

    static History read(List<String> lines) {
        History h = new History();
        for (String line : lines) {
            Matcher m = HEAD.matcher(line);
            if (!m.find()) {
                continue;
            }
            long time = nanos(m.group(1));
            int at = m.end();
            Kind kind = Kind.valueOf(line.substring(at, at + 20).trim());
            String thread = line.substring(at + 21, Math.min(line.length(), at + 33)).trim();
            String rest = line.length() > at + 34 ? line.substring(at + 34) : "";
            int futex = -1;
            long value = 0;
            Matcher f = FUTEX.matcher(rest);
            if (f.find()) {
                futex = Integer.parseInt(f.group(1));
                rest = rest.substring(f.end());
            }
            Matcher v = (kind == Kind.STALL ? STALL : VALUE).matcher(rest);
            if ((kind == Kind.ACQUIRE || kind == Kind.READ || kind == Kind.WRITE || kind == Kind.STALL) && v.find()) {
                value = kind == Kind.STALL ? nanos(v.group(1)) : Long.parseLong(v.group(1));
                rest = rest.substring(v.end());
            }
            boolean flag = rest.startsWith("flag ");
            String detail = (flag ? rest.substring(5) : rest).stripTrailing();
            h.add(time, kind, thread, futex, value, flag, detail);
        }
        return h;
    }

    private static long nanos(String millis) {
        return new BigDecimal(millis).movePointRight(6).longValueExact();
    }
}
