package io.machxp.kernel.ipc.link;

import static io.machxp.kernel.ipc.link.TwoLinkedKernels.allocate;
import static io.machxp.kernel.ipc.link.TwoLinkedKernels.await;
import static io.machxp.kernel.ipc.link.TwoLinkedKernels.get;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A kernel whose core thread is busy sending keeps its link talking: the frames it sends leave
 * while it is still busy, at most {@link LinkDials#MAX_UNFLUSHED_FRAMES} at a time, rather than in
 * the drain task queued behind everything the thread has to do first.
 *
 * <p>Why (review ipclinks): the core thread is the links' event loop, and a link's frames went out
 * only in a drain task queued behind the tasks before it; the writer-idle tick that would send a
 * keepalive is a task of the same queue. A burst of 6,000 sends queued on kernel 2's core thread
 * (IpcLinksTest) kept its link to kernel 1 silent until the whole burst had run - at a load of 40
 * over its 2 s lease, and kernel 1 declared kernel 2 dead while it was working (it renewed, the
 * burst's messages were lost with the link, the test timed out). Deterministic here: one task of
 * kernel 2's core thread sends twice the bound and then, still in that task, waits for kernel 1
 * to receive the first message. Before, that message was still in the outbox, and the wait ran
 * out (40 s); no timing, only that the frames leave before the task ends.
 */
class BusyCoreLinkTest {
    /** Long: nothing here is about the lease, and a loaded machine must not end the link. */
    private static final long LEASE_MS = 30_000;
    private static final int NAME = 0x500;

    @Test
    void framesSentByABusyCoreThreadLeaveBeforeItsTaskEnds() throws InterruptedException {
        try (TwoLinkedKernels ks = new TwoLinkedKernels(LEASE_MS)) {
            assertThat(ks.k1.coreThread).as("each kernel on a loop of its own").isNotSameAs(ks.k2.coreThread);
            int port = allocate(ks.k1);
            assertThat((KernReturn) ks.k1.call(c -> c.machPortInsertRemote(1, port, MsgType.MAKE_SEND, 2, 2, NAME)))
                    .isEqualTo(KernReturn.KERN_SUCCESS);
            await(() -> ks.k2.call(c -> c.machPortType(2, NAME).code()) == KernReturn.KERN_SUCCESS);
            ks.k1.call(c -> c.machPortSetQlimit(1, port, Mach.MACH_PORT_QLIMIT_MAX));
            int burst = 2 * LinkDials.MAX_UNFLUSHED_FRAMES;
            CompletableFuture<MsgReturn> first = ks.k1.msg(100, null, Mach.MACH_RCV_MSG, port);

            CompletableFuture<Boolean> arrivedWhileBusy = CompletableFuture.supplyAsync(() -> {
                for (int i = 0; i < burst; i++) {
                    MachMessage m = MachMessage.to(NAME, MsgType.COPY_SEND, 201).withBody(MachMessage.int32(i));
                    ks.k2.core.machMsg(2, 201, m, Mach.MACH_SEND_MSG, 0, 0, 0, r -> {});
                }
                try { // still on kernel 2's core thread: its queued tasks (the drain) wait for this one
                    first.get(TwoLinkedKernels.WAIT_SECONDS, TimeUnit.SECONDS);
                    return true;
                } catch (TimeoutException e) {
                    return false;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, ks.k2.coreThread);

            assertThat(arrivedWhileBusy.join()).as("kernel 1 received a message kernel 2's busy core thread sent, before"
                    + " that thread's task ended").isTrue();
            assertThat(get(first).message().intItem(0)).isZero();
            for (int i = 1; i < burst; i++) {
                MachMessage m = get(ks.k1.msg(100, null, Mach.MACH_RCV_MSG, port)).message();
                assertThat(m.intItem(0)).as("in order, once").isEqualTo(i);
            }
            assertThat(ks.k1.links.dead(2) || ks.k2.links.dead(1)).isFalse();
        }
    }
}
