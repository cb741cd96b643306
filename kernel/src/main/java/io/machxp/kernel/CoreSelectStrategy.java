package io.machxp.kernel;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;

/**
 * How the kernel's core event loop waits for work: after doing some, it polls its sockets and
 * yields the processor a few times before it blocks in select. A request that comes meanwhile
 * (the next mach_msg of a thread that just got its answer, a lock after an unlock) is picked up
 * without the selector wake-up a blocked loop needs (an eventfd write, then the loop's thread
 * being scheduled again), which costs more than the request itself. With nothing coming, the
 * loop blocks as Netty's default strategy does; with N = 0 (the default) it is that strategy.
 *
 * <pre>
 *  tasks queued                 -> poll the sockets (selectNow), then run the tasks
 *  idle, fewer than N yields    -> poll the sockets; events: handle them; none: yield, look again
 *  idle after N yields          -> block in select until I/O or a task (N starts again after)
 * </pre>
 * One per event loop, used by its thread only.
 */
final class CoreSelectStrategy implements SelectStrategy {
    /**
     * Yields of an idle loop before it blocks: -Dmachxp.core.yields. Off (0) by default: it could
     * not be shown to pay on a loaded machine (docs/performance.md); none on a single processor.
     */
    static final int IDLE_YIELDS = Runtime.getRuntime().availableProcessors() > 1
            ? Integer.getInteger("machxp.core.yields", 0) : 0;

    private int idle;

    @Override
    public int calculateStrategy(IntSupplier selectSupplier, boolean hasTasks) throws Exception {
        if (hasTasks) {
            idle = 0;
            return selectSupplier.get();
        }
        if (idle >= IDLE_YIELDS) {
            idle = 0;
            return SelectStrategy.SELECT;
        }
        idle++;
        int ready = selectSupplier.get();
        if (ready > 0) {
            idle = 0;
            return ready;
        }
        Thread.yield();
        return SelectStrategy.CONTINUE;
    }
}
