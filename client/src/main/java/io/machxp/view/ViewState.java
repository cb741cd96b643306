package io.machxp.view;

import io.machxp.proto.admin.FutexStatus;
import io.machxp.proto.admin.PageStatus;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.SessionStatus;
import io.machxp.proto.admin.XpMessageTrace;
import io.machxp.proto.task.KernelThreadsReply;
import io.machxp.proto.task.ThreadStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the page shows, as JSON-ready records: made from the pager's latest watch event, each
 * kernel's threads, the message rates and the latest messages and handoffs ({@link ViewFeed}
 * keeps those). Futexes and pages are named "object+0xOFFSET" throughout. A status reply lists a
 * bounded number of futexes and pages and counts the others (PagerStatusSnapshot.MAX_REPLY_BYTES):
 * those counts are passed on, so the page can say how many it does not list.
 */
record ViewState(String pager, String problem, long unixMs, Rates rates, List<Kernel> kernels, List<Futex> futexes,
        long futexesOmitted, List<Page> pages, long pagesOmitted, List<Message> messages, List<Message> handoffs,
        long messagesMissed) {

    record Rates(double xpPerSecond, double grantsPerSecond, double handoffsPerSecond, long xpTotal, long grants,
            long handoffs, Map<String, Double> byRoutine) {}

    record Kernel(String name, long sessionId, long leaseLeftMs, int futexesHeld, int futexesQueued, boolean broken,
            int residentPages, List<ThreadRow> threads, long threadsOmitted, String problem) {}

    record ThreadRow(int tid, String task, int basePriority, int effectivePriority, boolean boosted, String blockedIn,
            String waitsFor, List<String> boostedBy) {}

    record Futex(String futex, String holder, String fencingToken, List<Waiter> waiters, boolean ownerDied) {}

    record Waiter(String kernel, long priority) {}

    record Page(String page, String writer, List<String> readers) {}

    record Message(long sequence, long unixMicros, String kernel, boolean toKernel, String routine, String target,
            String detail, String handoffFrom) {}

    static String name(String object, long offset) {
        return object.isEmpty() ? "" : object + "+0x" + Long.toHexString(offset);
    }

    static Message message(XpMessageTrace m) {
        return new Message(m.getSequence(), m.getUnixMicros(), m.getKernel(), m.getToKernel(), m.getRoutine(),
                name(m.getObject(), m.getOffset()), m.getDetail(), m.getHandoffFrom());
    }

    /**
     * @param threads each kernel's answer by kernel name; a kernel that did not answer maps to a
     *     reply with only its name, and {@code kernelProblems} says why
     */
    static ViewState of(String pagerTarget, String problem, PagerStatusReply status, Rates rates,
            Map<String, KernelThreadsReply> threads, Map<String, String> kernelProblems, Collection<Message> messages,
            Collection<Message> handoffs, long missed) {
        Map<String, Kernel> kernels = new LinkedHashMap<>();
        for (SessionStatus s : status.getSessionsList()) {
            KernelThreadsReply t = threads.get(s.getKernelName());
            kernels.put(s.getKernelName(), new Kernel(s.getKernelName(), s.getSessionId(), s.getLeaseLeftMs(),
                    s.getFutexesHeld(), s.getFutexesQueued(), s.getBroken(), t == null ? 0 : t.getResidentPages(),
                    t == null ? List.of() : threads(t), t == null ? 0 : t.getThreadsOmitted(),
                    t == null ? "its threads are not shown: the view was not "
                            + "given its address (--kernel)" : kernelProblems.get(s.getKernelName())));
        }
        threads.forEach((name, t) -> kernels.computeIfAbsent(name, n -> new Kernel(n, 0, 0, 0, 0, false,
                t.getResidentPages(), threads(t), t.getThreadsOmitted(),
                kernelProblems.getOrDefault(n, "no session with the pager"))));
        List<Futex> futexes = new ArrayList<>();
        for (FutexStatus f : status.getFutexesList()) {
            futexes.add(new Futex(name(f.getObject(), f.getOffset()), f.getHolder(),
                    token(f.getFencingToken()), f.getWaitersList().stream()
                    .map(w -> new Waiter(w.getKernel(), Integer.toUnsignedLong(w.getPriority()))).toList(),
                    f.getOwnerDied()));
        }
        List<Page> pages = new ArrayList<>();
        for (PageStatus p : status.getPagesList()) {
            pages.add(new Page(name(p.getObject(), p.getOffset()), p.getWriter(), p.getReadersList()));
        }
        return new ViewState(status.getPagerName().isEmpty() ? "pager at " + pagerTarget : "pager '"
                + status.getPagerName() + "' at " + pagerTarget, problem, System.currentTimeMillis(), rates,
                List.copyOf(kernels.values()), futexes, status.getFutexesOmitted(), pages, status.getPagesOmitted(),
                List.copyOf(messages), List.copyOf(handoffs), missed);
    }

    /**
     * A fencing token as {@code machxp status} and {@code machxp lock} give it (the unsigned 64-bit
     * number, {@code MACHXP_FENCING_TOKEN}), then, in brackets, as EPOCH.GRANT: the pager's epoch
     * (high 32 bits) and the grant's number in it. Before, the view showed only EPOCH.GRANT, and
     * nothing said it was the number the other commands print (front-door review L4).
     */
    static String token(long token) {
        return Long.toUnsignedString(token) + " (" + (token >>> 32) + "." + (token & 0xffff_ffffL) + ")";
    }

    private static List<ThreadRow> threads(KernelThreadsReply reply) {
        List<ThreadRow> out = new ArrayList<>();
        for (ThreadStatus t : reply.getThreadsList()) {
            out.add(new ThreadRow(t.getTid(), t.getTaskName(), t.getBasePriority(), t.getEffectivePriority(),
                    t.getEffectivePriority() > t.getBasePriority(), t.getBlockedIn(),
                    t.getWaitsForObject().isEmpty() ? "" : name(t.getWaitsForObject(), t.getWaitsForOffset()),
                    t.getBoostedByList().stream().map(f -> name(f.getObject(), f.getOffset())).toList()));
        }
        return out;
    }

    /** Rates between two counter readings {@code seconds} apart (the first reading: totals only). */
    static Rates rates(PagerStatisticsReply before, PagerStatisticsReply now, double seconds) {
        long xp = total(now.getXpReceivedMap()) + total(now.getXpSentMap());
        long xpBefore = before == null ? xp : total(before.getXpReceivedMap()) + total(before.getXpSentMap());
        Map<String, Double> byRoutine = new java.util.TreeMap<>();
        if (before != null && seconds > 0) {
            addRates(byRoutine, before.getXpReceivedMap(), now.getXpReceivedMap(), seconds);
            addRates(byRoutine, before.getXpSentMap(), now.getXpSentMap(), seconds);
        }
        double s = seconds > 0 ? seconds : 1;
        return new Rates(round((xp - xpBefore) / s), before == null ? 0 : round((now.getFutexGrants()
                - before.getFutexGrants()) / s), before == null ? 0 : round((now.getFutexHandoffs()
                - before.getFutexHandoffs()) / s), xp, now.getFutexGrants(), now.getFutexHandoffs(), byRoutine);
    }

    private static void addRates(Map<String, Double> into, Map<String, Long> before, Map<String, Long> now,
            double seconds) {
        now.forEach((routine, n) -> {
            long d = n - before.getOrDefault(routine, 0L);
            if (d > 0) {
                into.merge(routine, round(d / seconds), Double::sum);
            }
        });
    }

    private static long total(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
