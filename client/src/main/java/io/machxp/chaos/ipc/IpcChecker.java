package io.machxp.chaos.ipc;

import io.machxp.chaos.ipc.IpcHistory.Entry;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Judges an IPC chaos history ({@link IpcHistory}) against the harness's own record of its faults:
 * <ol>
 *   <li><b>At most once, in order.</b> A client's message (its seq) is delivered at most once,
 *       and the messages of one client to one port are delivered in the order of their seqs
 *       (through receive-right moves, blocked sends and link jitter).</li>
 *   <li><b>None lost</b> unless its port died (or may have, for the kernel it went through), the
 *       right it was sent through may have died with a renewal (sent within the renewal's window),
 *       it may have been on a renewed kernel's links (sent over a local right while the port was
 *       away from the client's kernel, before it arrived back by a path through that kernel, which
 *       renewed within two leases of the arrival), or its client's kernel crashed: every message
 *       whose send succeeded is delivered by the end.</li>
 *   <li><b>Dead names when due.</b> A client gets DEAD_NAME for one of its names for a port only
 *       once the port died or may have, or a renewal may have killed that right, at most once per
 *       name; a right never arrives as a dead name (or not at all) unless so; and it must get
 *       DEAD_NAME (or have found the name dead when it asked) for every name of every port that
 *       died, unless its own kernel crashed.</li>
 *   <li><b>Rpcs: one answer.</b> An rpc's reply port gets at most one answer: the reply (naming
 *       its seq, after the server sent it) or, when its request was destroyed undelivered,
 *       SEND_ONCE (also after its delivery, if a kernel crashed or renewed during the rpc: the
 *       reply right died unused with it, or the reply on its way); exactly one unless a crash touched its
 *       port (or its server destroyed it just before its kernel crashed), a renewal the right it went
 *       through (or, sent over a local right as in rule 2, its request was never delivered or
 *       delivered before the port arrived), or its client's kernel crashed.</li>
 *   <li><b>No right duplicated or lost.</b> A server's user references for a client's token port
 *       are the number of send rights it received and has not released, every time it looks.</li>
 *   <li><b>No-senders exactly when due.</b> NO_SENDERS with make-send count m comes only when
 *       none of the first m send rights to the token port is held or still on its way; and if no
 *       kernel crashed, a live client's last NO_SENDERS counts every right it made once each was
 *       released or destroyed with a dead port's message (a right held across a renewed kernel is
 *       cut: recorded released). A right lost undelivered through a renewed kernel is neither: the
 *       kernel may have passed it on first, which holds no-senders back for good (late, never
 *       early: docs/mach-ipc.md), so that client's last NO_SENDERS is not judged.</li>
 *   <li><b>Answers.</b> Every call of a live task is answered by the end; nothing unexpected.</li>
 * </ol>
 * A renewal of kernel R (IpcFaults) touches only what crossed R: the harness marks each client
 * right that may have died with it ({@code RIGHT_MAY_BE_DEAD}, per client and name) and the ports
 * in transit through R; rights made later and ports not touched keep every rule. A local right
 * (its port's receive right on the client's kernel) is never marked, as no renewal kills it: only
 * the messages sent over it while the port was away, before it arrived back by a path through R,
 * may have been on R's links ({@code IN_FLIGHT_MAY_BE_LOST}, review C2; bounded by review R1/R2
 * of ipcchaos2), and only those are exempt.
 *
 * A port that may be dead ({@code PORT_MAY_BE_DEAD}) is exempt from rules 2, 4 and 6 by
 * {@link PortExemptions}: for the whole run if a crash touched it, for a renewal's mark only what
 * was sent from the start of the move during which it was marked until its next arrival (review
 * late1 A1); likewise for rule 3, a renewal's mark excuses DEAD_NAME only until the arrival (the
 * rights the renewal may have killed are marked on their own).
 *
 * <p>Rule 8, every byte back (queued-bytes accounting across kernels), is judged by the run itself
 * after this history: it ends every task and reads the kernels' budgets ({@link IpcChaosRun}).
 */
public final class IpcChecker {
    private IpcChecker() {}

    private record Key(String client, long seq) {}

    /**
     * An IN_FLIGHT_MAY_BE_LOST entry: at {@code renewal} a kernel's links were cut, on which what
     * was sent over the right from {@code after} (its last move away from the client's kernel began)
     * until {@code before} (the port's arrival there) may still have been.
     */
    private record InFlight(long renewal, long after, long before) {}

    public static List<String> check(IpcHistory history) {
        List<String> v = new ArrayList<>();
        List<Entry> all = history.entries();
        Set<String> gone = new HashSet<>();
        Set<Integer> deadAtEnd = new HashSet<>();
        Set<Integer> crashTouched = new HashSet<>();
        boolean anyCrash = false;
        // ports a server destroyed: its name and when (the news may not have left before its kernel crashed)
        Map<Integer, Entry> destroyed = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            Entry e = all.get(i);
            switch (e.kind()) {
                case GONE -> {
                    gone.add(e.who());
                    if (e.note().equals("its kernel crashed")) {
                        destroyedBeforeACrash(destroyed, e, 2 * history.leaseNanos(), crashTouched);
                    }
                }
                case PORT_DEAD -> {
                    deadAtEnd.add(e.port());
                    if (!e.note().startsWith("destroyed")) {
                        crashTouched.add(e.port());
                    } else {
                        destroyed.put(e.port(), e);
                    }
                }
                case PORT_MAY_BE_DEAD -> {
                    if (e.b() != 0) { // a crash's: for good; a renewal's lasts until the port's next arrival
                        crashTouched.add(e.port());
                    }
                }
                case KERNEL -> anyCrash |= e.note().equals("crashed");
                case UNANSWERED -> v.add(e.who() + ": no answer by the end to " + e.note());
                case UNEXPECTED -> v.add(e.who() + ": " + e.note() + " (at " + ms(e) + ")");
                case REFS -> {
                    if (e.a() != e.b()) {
                        v.add(String.format(Locale.ROOT, "%s: right %s: mach_port_get_refs says %d user references for %s, "
                                + "the harness counts %d held (at %s)", e.who(), e.b() > e.a() ? "duplicated" : "lost",
                                e.b(), e.note(), e.a(), ms(e)));
                    }
                }
                default -> { }
            }
        }
        Map<Key, Long> sending = new HashMap<>();
        Map<String, Long> markedUntil = new HashMap<>();
        Map<String, List<InFlight>> inFlight = new HashMap<>();
        for (Entry e : all) {
            if (e.kind() == Kind.SENDING) {
                sending.putIfAbsent(new Key(e.who(), e.a()), e.time());
            } else if (e.kind() == Kind.RIGHT_MAY_BE_DEAD) {
                markedUntil.merge(right(e), Math.max(e.time(), e.b()), Math::max);
            } else if (e.kind() == Kind.IN_FLIGHT_MAY_BE_LOST) {
                inFlight.computeIfAbsent(right(e), r -> new ArrayList<>()).add(new InFlight(e.time(), e.c(), e.b()));
            }
        }
        // when a message's send began (SENDING), else its SENT
        java.util.function.ToLongFunction<Entry> sentAt = e -> Math.min(e.time(),
                sending.getOrDefault(new Key(e.who(), e.a()), e.time()));
        long onALink = 2 * history.leaseNanos();
        Exempt exempt = (sent, deliveredAt) -> {
            long at = sentAt.applyAsLong(sent);
            return sentWhileMarked(markedUntil, sent, at) || inFlightAtARenewal(inFlight, sent, at, deliveredAt, onALink);
        };
        PortExemptions ports = PortExemptions.of(all, crashTouched);
        Touched touched = sent -> ports.covers(sent.port(), sentAt.applyAsLong(sent));
        delivery(all, v, gone, deadAtEnd, touched, exempt);
        deadNames(all, v, gone, deadAtEnd);
        rpcs(all, v, gone, touched, exempt);
        noSenders(all, v, gone, anyCrash, deadAtEnd, touched);
        return v;
    }

    /**
     * Server {@code gone} was lost with its kernel's crash: a port it destroyed within
     * {@code window} before is touched by the crash (review F7) - its death and the SEND_ONCE
     * notifications of its queue may not have left the kernel's links.
     */
    private static void destroyedBeforeACrash(Map<Integer, Entry> destroyed, Entry gone, long window,
            Set<Integer> crashTouched) {
        String by = "destroyed by " + gone.who();
        for (Entry d : destroyed.values()) {
            if (d.note().equals(by) && gone.time() - d.time() <= window) {
                crashTouched.add(d.port());
            }
        }
    }

    /**
     * The client's right an entry names, "client/name": a = the name for DEAD_NAME_REQUESTED,
     * DEAD_NAME, RIGHT_MAY_BE_DEAD, RIGHT_GIVEN (0: the published one); for SENT, the " via NAME"
     * of its note (none: the published one).
     */
    static String right(Entry e) {
        long name;
        if (e.kind() == Kind.SENT) {
            int via = e.note().indexOf(" via ");
            name = via < 0 ? IpcChaosRun.PUBLISHED + e.port() : Long.parseLong(e.note().substring(via + 5), 16);
        } else {
            name = e.a() == 0 ? IpcChaosRun.PUBLISHED + e.port() : e.a();
        }
        return e.who() + "/" + name;
    }

    /**
     * Whether SENT entry {@code sent}, whose send began at time {@code at}, went over its right
     * before the end of the window of that right's last RIGHT_MAY_BE_DEAD mark (review C1; b: until
     * the other kernels declared the renewed one dead): only such a message may be lost to the
     * renewal the mark stands for; one sent later, on the new path, may not.
     */
    private static boolean sentWhileMarked(Map<String, Long> markedUntil, Entry sent, long at) {
        Long until = markedUntil.get(right(sent));
        return until != null && at <= until;
    }

    /**
     * Whether SENT entry {@code sent}, whose send began at {@code at} and which was delivered at
     * {@code deliveredAt} (null: never), may have been on a renewed kernel's links when they were
     * cut (review C2, bounded by review R1/R2 of ipcchaos2): it went over its right while that was
     * remote, from the start of the port's last move away from the client's kernel until the
     * port's arrival there, by a path through the renewed kernel (an IN_FLIGHT_MAY_BE_LOST entry
     * of its right); the renewal came within {@code onALink} (two leases) of the arrival, the
     * longest a frame stays on a live link; and it was never delivered, or it is an rpc whose
     * request was delivered before the arrival (by a server not on the client's kernel: its reply
     * may have crossed the renewed one; one delivered later was received on the client's kernel
     * and its reply is local).
     */
    private static boolean inFlightAtARenewal(Map<String, List<InFlight>> inFlight, Entry sent, long at, Long deliveredAt,
            long onALink) {
        for (InFlight f : inFlight.getOrDefault(right(sent), List.of())) {
            boolean sentRemote = f.after() <= at && at < f.before();
            boolean soonAfter = f.renewal() - f.before() <= onALink;
            if (sentRemote && soonAfter && (deliveredAt == null || rpc(sent) && deliveredAt < f.before())) {
                return true;
            }
        }
        return false;
    }

    /** Whether a message or rpc not delivered or not answered may have been lost to a renewal (rules 2 and 4). */
    @FunctionalInterface
    private interface Exempt {
        boolean test(Entry sent, Long deliveredAt);
    }

    /** Whether a fault touched the port of SENT entry {@code sent} when its send began ({@link PortExemptions}). */
    @FunctionalInterface
    private interface Touched {
        boolean test(Entry sent);
    }

    private static boolean rpc(Entry sent) {
        return sent.note().startsWith("rpc");
    }

    private static String ms(Entry e) {
        return String.format(Locale.ROOT, "%.3f ms", e.time() / 1e6);
    }

    private static void delivery(List<Entry> all, List<String> v, Set<String> gone, Set<Integer> dead,
            Touched touched, Exempt exempt) {
        Map<Key, Entry> delivered = new HashMap<>();
        Map<String, Long> last = new HashMap<>();
        for (Entry e : all) {
            if (e.kind() != Kind.DELIVERED) {
                continue;
            }
            Key k = new Key("c" + e.b(), e.a());
            if (delivered.put(k, e) != null) {
                v.add(String.format(Locale.ROOT, "c%d's message %d delivered twice (again to %s at %s)", e.b(), e.a(), e.who(), ms(e)));
            }
            String stream = "c" + e.b() + "->p" + e.port();
            Long before = last.put(stream, e.a());
            if (before != null && before > e.a()) {
                v.add(String.format(Locale.ROOT, "c%d's messages to p%d out of order: %d delivered after %d (at %s)", e.b(),
                        e.port(), e.a(), before, ms(e)));
            }
        }
        for (int i = 0; i < all.size(); i++) {
            Entry e = all.get(i);
            if (e.kind() != Kind.SENT) {
                continue;
            }
            Entry d = delivered.get(new Key(e.who(), e.a()));
            if (d == null && !dead.contains(e.port()) && !touched.test(e) && !gone.contains(e.who())
                    && !exempt.test(e, null)) {
                v.add(String.format(Locale.ROOT, "%s's message %d to p%d (sent at %s) lost: never delivered, and its port lives",
                        e.who(), e.a(), e.port(), ms(e)));
            } else if (d != null && d.port() != e.port()) {
                v.add(String.format(Locale.ROOT, "%s's message %d to p%d delivered on p%d", e.who(), e.a(), e.port(), d.port()));
            }
        }
    }

    private static void deadNames(List<Entry> all, List<String> v, Set<String> gone, Set<Integer> dead) {
        Set<Integer> deadNow = new HashSet<>(); // dead, or may be: by a crash for good, by a renewal until it arrives
        Set<Integer> deadForGood = new HashSet<>();
        Set<String> markedNow = new HashSet<>();
        Set<String> got = new HashSet<>();
        Set<String> foundDead = new HashSet<>();
        Map<String, Integer> requested = new TreeMap<>();
        for (Entry e : all) {
            switch (e.kind()) {
                case PORT_DEAD -> {
                    deadNow.add(e.port());
                    deadForGood.add(e.port());
                }
                case PORT_MAY_BE_DEAD -> {
                    deadNow.add(e.port());
                    if (e.b() != 0) {
                        deadForGood.add(e.port());
                    }
                }
                case MOVE_ARRIVED -> {
                    // its receive right lived: a renewal's mark ends (a right to it the renewal may have
                    // killed on the way has a RIGHT_MAY_BE_DEAD of its own; review late1 A1)
                    if (!deadForGood.contains(e.port())) {
                        deadNow.remove(e.port());
                    }
                }
                case RIGHT_MAY_BE_DEAD -> markedNow.add(right(e));
                case DEAD_NAME_REQUESTED -> {
                    String r = right(e);
                    requested.put(r, e.port());
                    if (e.b() != 0) {
                        foundDead.add(r);
                        if (!deadNow.contains(e.port()) && !markedNow.contains(r)) {
                            v.add(String.format(Locale.ROOT, "%s: its right to p%d (name %s) %s at %s, but the port lives and no"
                                    + " fault touched the right", e.who(), e.port(), r.substring(r.indexOf('/') + 1),
                                    e.b() == 1 ? "arrived as a dead name" : "never arrived", ms(e)));
                        }
                    }
                }
                case DEAD_NAME -> {
                    String r = right(e);
                    if (!deadNow.contains(e.port()) && !markedNow.contains(r)) {
                        v.add(String.format(Locale.ROOT, "%s: DEAD_NAME for p%d at %s, but the port lives", e.who(), e.port(), ms(e)));
                    }
                    if (!got.add(r)) {
                        v.add(String.format(Locale.ROOT, "%s: a second DEAD_NAME for p%d at %s", e.who(), e.port(), ms(e)));
                    }
                }
                default -> { }
            }
        }
        for (Map.Entry<String, Integer> r : requested.entrySet()) {
            String c = r.getKey().substring(0, r.getKey().indexOf('/'));
            if (!gone.contains(c) && dead.contains(r.getValue()) && !got.contains(r.getKey()) && !foundDead.contains(r.getKey())) {
                v.add(String.format(Locale.ROOT, "%s: no DEAD_NAME for p%d by the end, although the port died", c, r.getValue()));
            }
        }
    }

    private static void rpcs(List<Entry> all, List<String> v, Set<String> gone, Touched touched, Exempt exempt) {
        Map<Key, Entry> requests = new HashMap<>();
        Map<Key, Long> deliveredAt = new HashMap<>();
        Set<Key> delivered = new HashSet<>();
        Set<Key> replied = new HashSet<>();
        Map<Key, Integer> answers = new HashMap<>();
        List<Long> faults = new ArrayList<>(); // when a kernel crashed or renewed
        Map<Key, Long> sendingAt = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
            Entry e = all.get(i);
            switch (e.kind()) {
                case KERNEL -> {
                    if (e.note().equals("crashed") || e.note().equals("renewed")) {
                        faults.add(e.time());
                    }
                }
                case SENDING -> sendingAt.putIfAbsent(new Key(e.who(), e.a()), e.time());
                case SENT -> {
                    if (rpc(e)) {
                        requests.put(new Key(e.who(), e.a()), e);
                    }
                }
                case DELIVERED -> {
                    delivered.add(new Key("c" + e.b(), e.a()));
                    deliveredAt.putIfAbsent(new Key("c" + e.b(), e.a()), e.time());
                }
                case REPLIED -> replied.add(new Key("c" + e.b(), e.a()));
                default -> { }
            }
        }
        for (Entry e : all) { // a reply is recorded as it reaches the client, within the server's send
            switch (e.kind()) {
                case REPLY, SEND_ONCE -> {
                    Key k = new Key(e.who(), e.a());
                    if (answers.merge(k, 1, Integer::sum) > 1) {
                        v.add(String.format(Locale.ROOT, "%s: rpc %d answered twice (%s at %s)", e.who(), e.a(), e.kind(), ms(e)));
                    }
                    if (e.kind() == Kind.REPLY && (e.b() != e.a() || !replied.contains(k))) {
                        v.add(String.format(Locale.ROOT, "%s: rpc %d got a reply naming %d that no server sent", e.who(), e.a(), e.b()));
                    }
                    // a request delivered ends in SEND_ONCE only if its reply right (held by the server, in
                    // the reply, or on a path through a kernel) may have died with a kernel during the rpc:
                    // destroyed unused (review F5)
                    long since = sendingAt.getOrDefault(k, deliveredAt.getOrDefault(k, e.time()));
                    if (e.kind() == Kind.SEND_ONCE && delivered.contains(k)
                            && faults.stream().noneMatch(t -> t >= since && t <= e.time())) {
                        v.add(String.format(Locale.ROOT, "%s: rpc %d got SEND_ONCE, but its request was delivered", e.who(), e.a()));
                    }
                }
                default -> { }
            }
        }
        Map<Key, Entry> sorted = new TreeMap<>(java.util.Comparator.comparing(Key::client).thenComparingLong(Key::seq));
        sorted.putAll(requests);
        for (Map.Entry<Key, Entry> r : sorted.entrySet()) {
            Key k = r.getKey();
            if (!answers.containsKey(k) && !gone.contains(k.client()) && !touched.test(r.getValue())
                    && !exempt.test(r.getValue(), deliveredAt.get(k))) {
                v.add(String.format(Locale.ROOT, "%s: rpc %d to p%d never answered (%s)", k.client(), k.seq(), r.getValue().port(),
                        delivered.contains(k) ? "delivered, no reply" : "not delivered, no SEND_ONCE"));
            }
        }
    }

    private static void noSenders(List<Entry> all, List<String> v, Set<String> gone, boolean anyCrash,
            Set<Integer> dead, Touched touched) {
        Map<String, Long> lastNoSenders = new HashMap<>();
        Map<String, Set<Long>> held = new HashMap<>();
        Map<String, Long> made = new HashMap<>();
        Map<Key, Entry> sentWith = new HashMap<>();
        Set<Key> released = new HashSet<>();
        Set<Key> arrived = new HashSet<>();
        for (int i = 0; i < all.size(); i++) {
            Entry e = all.get(i);
            switch (e.kind()) {
                case SENT -> {
                    if (e.b() > 0) {
                        made.merge(e.who(), e.b(), Math::max);
                        sentWith.put(new Key(e.who(), e.b()), e);
                    }
                }
                case TOKEN_HELD -> {
                    String c = "c" + e.b();
                    Key k = new Key(c, e.a());
                    arrived.add(k);
                    if (e.a() <= lastNoSenders.getOrDefault(c, 0L)) {
                        v.add(String.format(Locale.ROOT, "%s: NO_SENDERS came early: send right %d to its token port reached %s "
                                + "at %s, after a NO_SENDERS counting it", c, e.a(), e.who(), ms(e)));
                    }
                    held.computeIfAbsent(e.who() + "/" + c, x -> new HashSet<>()).add(e.a());
                }
                case TOKEN_RELEASED -> {
                    String c = "c" + e.b();
                    released.add(new Key(c, e.a()));
                    held.getOrDefault(e.who() + "/" + c, new HashSet<>()).remove(e.a());
                }
                case GONE -> held.keySet().removeIf(h -> h.startsWith(e.who() + "/"));
                case NO_SENDERS -> {
                    lastNoSenders.merge(e.who(), e.a(), Math::max);
                    for (Map.Entry<String, Set<Long>> h : held.entrySet()) {
                        if (h.getKey().endsWith("/" + e.who()) && h.getValue().stream().anyMatch(t -> t <= e.a())) {
                            v.add(String.format(Locale.ROOT, "%s: NO_SENDERS (mscount %d) at %s while %s holds send rights %s",
                                    e.who(), e.a(), ms(e), h.getKey().split("/")[0], h.getValue()));
                        }
                    }
                }
                default -> { }
            }
        }
        if (anyCrash) {
            return; // a right lost with a kernel may hold no-senders back (late, never early): docs/mach-ipc.md
        }
        for (Map.Entry<String, Long> m : made.entrySet()) {
            String c = m.getKey();
            boolean allGone = true;
            for (long t = 1; t <= m.getValue() && allGone; t++) {
                Key k = new Key(c, t);
                Entry sent = sentWith.get(k);
                // a right lost undelivered through a renewed kernel is not gone for sure: if that kernel
                // passed it on before its links were cut (its RefTransfer reached the home), the home
                // keeps the next kernel's count for good (docs/mach-ipc.md: late, never early; seed 306)
                allGone = released.contains(k)
                        || (!arrived.contains(k) && sent != null && dead.contains(sent.port())
                        && !touched.test(sent));
            }
            if (!gone.contains(c) && allGone && lastNoSenders.getOrDefault(c, 0L) != m.getValue()) {
                v.add(String.format(Locale.ROOT, "%s: every one of its %d send rights is gone, but its last NO_SENDERS counts %d",
                        c, m.getValue(), lastNoSenders.getOrDefault(c, 0L)));
            }
        }
    }
}
