package io.machxp.pager;

import io.machxp.pager.core.PagerStats;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.function.ToDoubleFunction;

/**
 * A pager's meters, read from its counters when scraped: XP messages by routine and direction,
 * futex grants and handoffs, lease renewals, sessions, kernels declared dead, fenced messages,
 * store failures and damage, the objects a file store closed, the core's records (pages,
 * futexes) and queue depth, and the time the core takes per XP message as a histogram. Tagged
 * with the pager's name.
 */
final class PagerMetrics {
    private PagerMetrics() {}

    static Timer bind(MeterRegistry r, String name, PagerStats stats, Pager pager, Executor loop,
            io.machxp.pager.store.PageStore store) {
        for (KernelToPager.RoutineCase c : KernelToPager.RoutineCase.values()) {
            if (c != KernelToPager.RoutineCase.ROUTINE_NOT_SET && c != KernelToPager.RoutineCase.KERNEL_KEEPALIVE) {
                FunctionCounter.builder("machxp.xp.messages", stats, s -> s.received(c)).tag("pager", name)
                        .tag("direction", "received").tag("routine", c.name().toLowerCase(Locale.ROOT))
                        .description("XP messages by routine").register(r);
            }
        }
        for (PagerToKernel.RoutineCase c : PagerToKernel.RoutineCase.values()) {
            if (c != PagerToKernel.RoutineCase.ROUTINE_NOT_SET && c != PagerToKernel.RoutineCase.PAGER_KEEPALIVE) {
                FunctionCounter.builder("machxp.xp.messages", stats, s -> s.sent(c)).tag("pager", name)
                        .tag("direction", "sent").tag("routine", c.name().toLowerCase(Locale.ROOT))
                        .description("XP messages by routine").register(r);
            }
        }
        counter(r, name, stats, "machxp.futex.grants", PagerStats::grants, "futexes granted to a kernel");
        counter(r, name, stats, "machxp.futex.handoffs", PagerStats::handoffs,
                "grants to a kernel other than the last holder");
        counter(r, name, stats, "machxp.lease.renewals", PagerStats::keepalives, "kernel keepalives answered");
        counter(r, name, stats, "machxp.kernels.declared.dead", PagerStats::kernelsDeclaredDead,
                "kernels whose lease ran out");
        counter(r, name, stats, "machxp.kernels.answers.overdue", PagerStats::answersOverdue,
                "sessions ended for an answer overdue (a lock_request or a trylock's relinquish)");
        counter(r, name, stats, "machxp.xp.fenced", PagerStats::fenced, "messages of dead sessions ignored");
        counter(r, name, stats, "machxp.store.failures", PagerStats::storeFailures,
                "page store reads and writes that failed (an I/O error; damage is counted apart)");
        counter(r, name, stats, "machxp.store.damaged", PagerStats::storeDamaged,
                "requests for a page the store found damaged (answered with data_error)");
        if (store instanceof io.machxp.pager.store.FilePageStore files) {
            FunctionCounter.builder("machxp.store.objects.closed", files,
                    io.machxp.pager.store.FilePageStore::objectsClosed).tag("pager", name)
                    .description("objects whose files the page store closed as the least recently used beyond "
                            + "its bound (opened again when used)").register(r);
        }
        Gauge.builder("machxp.sessions", stats, PagerStats::kernelsConnected).tag("pager", name)
                .description("kernels connected").register(r);
        Gauge.builder("machxp.pages.resident", pager, p -> p.recordCount("pages")).tag("pager", name)
                .description("pages the pager keeps a record of (held by a kernel or asked for)").register(r);
        Gauge.builder("machxp.futex.records", pager, p -> p.recordCount("futexes")).tag("pager", name)
                .description("futexes held, waited for or owed a grant").register(r);
        if (loop instanceof SingleThreadEventExecutor e) {
            Gauge.builder("machxp.core.queue.depth", e, SingleThreadEventExecutor::pendingTasks).tag("pager", name)
                    .description("tasks waiting for the core's thread").register(r);
        }
        return Timer.builder("machxp.xp.handling").tag("pager", name).publishPercentileHistogram()
                .description("time the pager's core takes for one XP message").register(r);
    }

    private static void counter(MeterRegistry r, String name, PagerStats stats, String meter,
            ToDoubleFunction<PagerStats> f, String description) {
        FunctionCounter.builder(meter, stats, f).tag("pager", name).description(description).register(r);
    }
}
