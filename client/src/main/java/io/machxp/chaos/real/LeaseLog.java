package io.machxp.chaos.real;

import io.machxp.chaos.History;
import io.machxp.chaos.History.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a real run's pager and kernels logged about leases, as history entries for the checker: the
 * pager's declarations of death ({@code DECLARED}) and each kernel's own stops and session opens
 * ({@code KERNEL} {@link History#STOPPED}, {@link History#SESSION_OPEN}). A kernel may lose its
 * lease with no fault injected and no stall the probes see (a replicated pager without a leader,
 * or committing slowly on a loaded host): the pager then declares it dead and passes its futexes
 * on with OWNER_DIED, which the checker allows only if the kernel's own log says it had stopped
 * first (see {@code DeclaredDeaths}).
 *
 * <p>Each line's time is its log stamp (HH:mm:ss.SSS, the host's wall clock, which every process
 * shares), turned into the history's time by the recorder. A replicated pager's every replica logs
 * each declaration as it applies the entry, a restarted one again as it replays its log: only the
 * one by the replica leading then (the highest term claimed by that time, by the replicas' "leads
 * its group now" lines) counts, and a kernel is declared dead once per session (a declaration with
 * no session open of that kernel since its last one is the same one again). A declaration comes
 * before the kernel lines of the same stamp, and a kernel's "session with the pager is over" line
 * whose reason is the pager's declaration is no stop: it is what the declaration caused.
 */
final class LeaseLog {
    private static final Pattern STAMP = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) ");
    private static final Pattern LEADS = Pattern.compile("replica (\\w+) leads its group now \\(term (\\d+)\\)");
    private static final Pattern DECLARED = Pattern.compile(": declared kernel (\\S+) dead: ");
    private static final Pattern OPEN = Pattern.compile("kernel (\\S+): session open");
    /**
     * A kernel's stop: its lease ran out, or its session ended for a reason of its own (a pager it
     * could not reach). Not a session the pager ended by declaring the kernel dead: that is the
     * declaration's consequence, which the kernel logs within the same millisecond, not a stop
     * before it (a kernel that stopped by itself logged its lease line 0.2 L earlier).
     */
    private static final Pattern STOPPED = Pattern.compile(
            "kernel (\\S+): (.*; it stops handing out what it holds|its session with the pager is over \\((?!.*declared).*)");

    /** One line that matters, at {@code time} (history ns). */
    record Event(long time, Kind kind, String thread, String detail) {}

    private LeaseLog() {}

    /**
     * The events of the logs: {@code pagers} maps each pager process's id (a replica's, or "pager")
     * to its log's lines, {@code kernels} each kernel's name to its log's lines; {@code time} turns
     * a line's stamp into the history's time. In time order.
     */
    static List<Event> events(Map<String, List<String>> pagers, Map<String, List<String>> kernels,
            ToLongFunction<LocalTime> time) {
        List<Event> out = new ArrayList<>();
        kernels.forEach((name, lines) -> {
            for (String line : lines) {
                LocalTime at = stamp(line);
                if (at == null) {
                    continue;
                }
                if (OPEN.matcher(line).find()) {
                    out.add(new Event(time.applyAsLong(at), Kind.KERNEL, name, History.SESSION_OPEN + " (its log)"));
                } else if (STOPPED.matcher(line).find()) {
                    out.add(new Event(time.applyAsLong(at), Kind.KERNEL, name, History.STOPPED + " (its log)"));
                }
            }
        });
        List<long[]> claims = new ArrayList<>(); // {time, term, index of the replica in ids}
        List<String> ids = new ArrayList<>(pagers.keySet());
        List<Event> declared = new ArrayList<>();
        pagers.forEach((id, lines) -> {
            for (String line : lines) {
                LocalTime at = stamp(line);
                if (at == null) {
                    continue;
                }
                Matcher m = LEADS.matcher(line);
                if (m.find()) {
                    claims.add(new long[] {time.applyAsLong(at), Long.parseLong(m.group(2)), ids.indexOf(m.group(1))});
                }
                Matcher d = DECLARED.matcher(line);
                if (d.find()) {
                    declared.add(new Event(time.applyAsLong(at), Kind.DECLARED, d.group(1), "by pager " + id));
                }
            }
        });
        out.sort(Comparator.comparingLong(Event::time));
        declared.sort(Comparator.comparingLong(Event::time));
        Map<String, Long> lastCounted = new HashMap<>();
        for (Event d : declared) {
            String by = d.detail().substring("by pager ".length());
            if (ids.size() > 1 && !by.equals(leaderAt(claims, ids, d.time()))) {
                continue; // a follower's copy, or a replay
            }
            Long last = lastCounted.get(d.thread());
            if (last != null && out.stream().noneMatch(e -> e.thread().equals(d.thread())
                    && e.detail().startsWith(History.SESSION_OPEN) && e.time() > last && e.time() <= d.time())) {
                continue; // that session was declared dead already
            }
            lastCounted.put(d.thread(), d.time());
            out.add(new Event(d.time(), d.kind(), d.thread(), "the pager declared it dead (" + d.detail() + ")"));
        }
        // A declaration before kernel lines of its stamp: a stop must be strictly earlier than the
        // declaration it allows (the kernel stops 0.2 L before the pager's lease ends).
        out.sort(Comparator.comparingLong(Event::time).thenComparing(e -> e.kind() != Kind.DECLARED));
        return out;
    }

    /** The replica that claimed the highest term by {@code time}, or null. */
    private static String leaderAt(List<long[]> claims, List<String> ids, long time) {
        long term = -1;
        String leader = null;
        for (long[] c : claims) {
            if (c[0] <= time && c[1] >= term && c[2] >= 0) {
                term = c[1];
                leader = ids.get((int) c[2]);
            }
        }
        return leader;
    }

    /**
     * Turns a log stamp into a history time: ns from {@code startedMillis} (the wall clock when the
     * history's time was 0), the stamp read in {@code zone} on that day or the one next to it
     * (a run across midnight).
     */
    static ToLongFunction<LocalTime> clock(long startedMillis, ZoneId zone) {
        ZonedDateTime start = Instant.ofEpochMilli(startedMillis).atZone(zone);
        return at -> {
            ZonedDateTime t = start.with(at);
            if (t.isBefore(start.minusHours(12))) {
                t = t.plusDays(1);
            } else if (t.isAfter(start.plusHours(12))) {
                t = t.minusDays(1);
            }
            return (t.toInstant().toEpochMilli() - startedMillis) * 1_000_000;
        };
    }

    private static LocalTime stamp(String line) {
        Matcher m = STAMP.matcher(line);
        return m.find() ? LocalTime.parse(m.group(1)) : null;
    }

    /** {@code base} with {@code events} entered in time order (an event before entries of its time). */
    static History merged(History base, List<Event> events) {
        History out = new History();
        int next = 0;
        for (History.Entry e : base.entries()) {
            for (; next < events.size() && events.get(next).time() <= e.time(); next++) {
                add(out, events.get(next));
            }
            out.add(e.time(), e.kind(), e.thread(), e.futex(), e.value(), e.flag(), e.detail());
        }
        for (; next < events.size(); next++) {
            add(out, events.get(next));
        }
        return out;
    }

    private static void add(History h, Event e) {
        h.add(e.time(), e.kind(), e.thread(), -1, 0, false, e.detail());
    }

    /** The lines of {@code log}, or none if it cannot be read (a process that never started). */
    static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList()
                    : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }
}
