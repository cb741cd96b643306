package io.machxp.kernel;

import io.machxp.kernel.core.KernelStats;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import java.util.Locale;
import java.util.concurrent.Executor;

/**
 * A kernel's meters, read from its counters when scraped (nothing is added to the hot paths but
 * the lock latency): XP messages by routine and direction, futex acquisitions by path (a wait is
 * any but the fast path), lease renewals (keepalives), sessions opened with the pager (more than
 * one after a renewal), IPC frames dropped at the hop bound, pages resident (the current
 * session's), the core's queue depth, and the latency of vm_lock_futex over gRPC as a histogram.
 * Tagged with the kernel's name.
 */
final class KernelMetrics {
    private KernelMetrics() {}

    static Timer bind(MeterRegistry r, String name, KernelStats stats, Kernel kernel, Executor loop) {
        for (KernelToPager.RoutineCase c : KernelToPager.RoutineCase.values()) {
            if (c != KernelToPager.RoutineCase.ROUTINE_NOT_SET && c != KernelToPager.RoutineCase.KERNEL_KEEPALIVE) {
                FunctionCounter.builder("machxp.xp.messages", stats, s -> s.sent(c)).tag("kernel", name)
                        .tag("direction", "sent").tag("routine", c.name().toLowerCase(Locale.ROOT))
                        .description("XP messages by routine").register(r);
            }
        }
        for (PagerToKernel.RoutineCase c : PagerToKernel.RoutineCase.values()) {
            if (c != PagerToKernel.RoutineCase.ROUTINE_NOT_SET && c != PagerToKernel.RoutineCase.PAGER_KEEPALIVE) {
                FunctionCounter.builder("machxp.xp.messages", stats, s -> s.received(c)).tag("kernel", name)
                        .tag("direction", "received").tag("routine", c.name().toLowerCase(Locale.ROOT))
                        .description("XP messages by routine").register(r);
            }
        }
        for (AcquirePath p : AcquirePath.values()) {
            if (p != AcquirePath.UNRECOGNIZED && p.getNumber() != 0) {
                FunctionCounter.builder("machxp.futex.acquisitions", stats, s -> s.acquires(p)).tag("kernel", name)
                        .tag("path", p.name().toLowerCase(Locale.ROOT))
                        .description("futex acquisitions by path; all but fast_path waited for a handoff or grant")
                        .register(r);
            }
        }
        FunctionCounter.builder("machxp.lease.renewals", stats, KernelStats::keepalives).tag("kernel", name)
                .description("keepalives sent and answered (the session's lease renewed)").register(r);
        FunctionCounter.builder("machxp.kernel.sessions.opened", kernel, Kernel::sessionsOpened).tag("kernel", name)
                .description("sessions with the pager this kernel opened: more than one after it lost one and "
                        + "opened a new one").register(r);
        FunctionCounter.builder("machxp.ipc.hop_bound.drops", kernel, Kernel::ipcHopBoundDrops).tag("kernel", name)
                .description("IPC frames dropped rather than passed on past the hop bound: proxies that point "
                        + "round in a loop (docs/mach-ipc.md)").register(r);
        Gauge.builder("machxp.pages.resident", kernel, k -> k.core().inspect().residentPages()).tag("kernel", name)
                .description("pages resident in this kernel").register(r);
        if (loop instanceof SingleThreadEventExecutor e) {
            Gauge.builder("machxp.core.queue.depth", e, SingleThreadEventExecutor::pendingTasks).tag("kernel", name)
                    .description("tasks waiting for the core's thread").register(r);
        }
        return Timer.builder("machxp.futex.lock.latency").tag("kernel", name).publishPercentileHistogram()
                .description("vm_lock_futex over gRPC, from the request to the grant").register(r);
    }
}
