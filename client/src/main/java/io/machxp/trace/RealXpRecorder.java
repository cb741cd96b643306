package io.machxp.trace;

import com.google.protobuf.Message;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.XpTap;
import io.machxp.pager.Pager;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.sim.SimCluster;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the XP messages of pagers and kernels running in this JVM (the embedded demo) in real
 * time, for the same Chrome trace and sequence chart as a simulator run ({@link XpTrace}).
 *
 * <h2>Overview</h2>
 * Each side of a stream reports what it sends and receives ({@link XpTap} on a kernel,
 * {@link PagerStats.XpListener} on a pager), with {@link System#nanoTime} read when it is told; both
 * sides share this JVM's clock. {@link #trace} pairs each arrival with the earliest unpaired
 * sending of an equal message on the same stream and direction that is not later (a stream is
 * FIFO); what has no partner (messages in flight when the recording started or stopped) is left
 * out. Kernels' trace events (dispatch, boosts, owner deaths) become marks. Keepalives are left
 * out, as the simulator's traces have none worth drawing. Callbacks come from the kernels' and
 * pagers' core threads: recording is synchronized, and cheap.
 */
public final class RealXpRecorder {
    /** One side's report: a message sent or received on the stream between {@code kernel} and pager {@code pager}. */
    private record Seen(long nanos, String kernel, int pager, boolean toPager, boolean sending, Message message) {}

    private record Stream(String kernel, int pager, boolean toPager, Message message) {}

    private final long origin = System.nanoTime();
    private final List<Seen> seen = new ArrayList<>();
    private final List<XpTrace.Mark> marks = new ArrayList<>();
    private final List<Runnable> detach = new ArrayList<>();

    /** Starts recording the XP messages of {@code pagers} (in the kernels' order of pagers) and {@code kernels}. */
    public RealXpRecorder(List<Pager> pagers, List<Kernel> kernels) {
        for (int p = 0; p < pagers.size(); p++) {
            int pager = p;
            PagerStats stats = pagers.get(p).stats();
            stats.listen(new PagerStats.XpListener() {
                @Override
                public void received(String kernel, KernelToPager message) {
                    record(kernel, pager, true, false, message);
                }

                @Override
                public void sent(String kernel, PagerToKernel message) {
                    record(kernel, pager, false, true, message);
                }
            });
            detach.add(() -> stats.listen(null));
        }
        for (Kernel k : kernels) {
            String name = k.name();
            k.xpTap().listen(new XpTap.Listener() {
                @Override
                public void sent(int pager, KernelToPager message) {
                    if (!message.hasKernelKeepalive()) {
                        record(name, pager, true, true, message);
                    }
                }

                @Override
                public void received(int pager, PagerToKernel message) {
                    if (!message.hasPagerKeepalive()) {
                        record(name, pager, false, false, message);
                    }
                }
            });
            k.onTrace((event, tid, detail) -> mark(name, event, "thread " + tid + (detail.isEmpty() ? "" : " " + detail)));
            detach.add(() -> {
                k.xpTap().listen(null);
                k.onTrace(null);
            });
        }
    }

    /** The lifeline of pager {@code index}: named as in the simulator. */
    static String pagerNode(int index) {
        return index == 0 ? SimCluster.PAGER : SimCluster.PAGER + index;
    }

    private synchronized void record(String kernel, int pager, boolean toPager, boolean sending, Message message) {
        seen.add(new Seen(System.nanoTime() - origin, kernel, pager, toPager, sending, message));
    }

    private synchronized void mark(String kernel, String event, String detail) {
        marks.add(new XpTrace.Mark(System.nanoTime() - origin, kernel, "-", event, detail));
    }

    /** Stops recording (the kernels and pagers run on). */
    public void stop() {
        detach.forEach(Runnable::run);
    }

    /** What was recorded, in nanoseconds since the recording started. */
    public synchronized XpTrace trace(String title) {
        Map<Stream, Deque<Long>> sends = new HashMap<>();
        for (Seen s : seen) {
            if (s.sending()) {
                sends.computeIfAbsent(new Stream(s.kernel(), s.pager(), s.toPager(), s.message()),
                        k -> new ArrayDeque<>()).add(s.nanos());
            }
        }
        record Paired(long sent, long arrives, Seen arrival) {}
        List<Paired> paired = new ArrayList<>();
        for (Seen s : seen) {
            if (s.sending()) {
                continue;
            }
            Deque<Long> times = sends.get(new Stream(s.kernel(), s.pager(), s.toPager(), s.message()));
            if (times != null && !times.isEmpty() && times.peekFirst() <= s.nanos()) {
                paired.add(new Paired(times.pollFirst(), s.nanos(), s));
            }
        }
        paired.sort(Comparator.comparingLong(Paired::sent));
        XpTrace trace = new XpTrace();
        trace.title(title);
        trace.clock("real time (System.nanoTime) of this JVM, from the start of the recording");
        for (Paired p : paired) {
            Seen a = p.arrival();
            String pager = pagerNode(a.pager());
            trace.message(p.sent(), p.arrives(), a.toPager() ? a.kernel() : pager, a.toPager() ? pager : a.kernel(),
                    a.message());
        }
        marks.stream().sorted(Comparator.comparingLong(XpTrace.Mark::time))
                .forEach(m -> trace.mark(m.time(), m.node(), m.thread(), m.event(), m.detail()));
        return trace;
    }
}
