package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review F1 (ipc-review.md): the cycle check of a message walked its destination's chain of
 * receive rights in transit once per receive right it carried, O(rights x chain) on the kernel's
 * one core thread, and a task could make the chain as long as its budget allowed (200,000 ports:
 * one message of 100 receive rights held the core for 2.2 s; end to end, one call cost a kernel
 * its pager session). Now one walk per message against the set of carried receive rights, and a
 * chain at most {@link Delivery#MAX_TRANSIT_DEPTH} deep. Work is counted in ports visited
 * ({@link IpcWork#cycleSteps}), not timed.
 */
class TransitChainWorkTest {
    private final IpcFixture f = new IpcFixture();

    /** A chain of {@code length} ports in transit, each in a message queued on the next; returns a send right to the deepest. */
    private int chain(int length) {
        int deepest = f.allocate(A);
        int send = f.sendRightIn(A, deepest, A);
        int prev = deepest;
        for (int i = 1; i < length; i++) {
            int next = f.allocate(A);
            assertThat(f.send(A, MachMessage.to(next, MsgType.MAKE_SEND, 1)
                    .withBody(new MsgItem.Port(prev, MsgType.MOVE_RECEIVE))).code()).as("link %d", i)
                    .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            prev = next;
        }
        return send;
    }

    @Test
    void oneMessageOfManyReceiveRightsWalksTheChainOnce() {
        int length = 200;
        int deepest = chain(length);
        int rights = 200;
        MsgItem[] items = new MsgItem[rights];
        int[] names = new int[rights];
        for (int i = 0; i < rights; i++) {
            names[i] = f.allocate(A);
            items[i] = new MsgItem.Port(names[i], MsgType.MOVE_RECEIVE);
        }
        long before = f.ipc.work.cycleSteps;
        assertThat(f.send(A, IpcFixture.to(deepest, 2).withBody(items)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        long steps = f.ipc.work.cycleSteps - before;
        assertThat(steps).as("ports visited for %d rights and a chain of %d (was %d)", rights, length, rights * length)
                .isLessThanOrEqualTo(6L * (length + 1));
        assertThat(f.ipc.machPortType(A, names[0]).code()).as("the rights moved: the message was queued")
                .isEqualTo(KernReturn.KERN_INVALID_NAME);
    }

    @Test
    void aCycleAmongManyCarriedRightsIsStillFound() {
        // the chain's root P (a name in A) is carried with 50 others to the deepest port: circular
        int deepest = f.allocate(A);
        int send = f.sendRightIn(A, deepest, A);
        int root = f.allocate(A);
        assertThat(f.send(A, MachMessage.to(root, MsgType.MAKE_SEND, 1)
                .withBody(new MsgItem.Port(deepest, MsgType.MOVE_RECEIVE))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MsgItem[] items = new MsgItem[51];
        for (int i = 0; i < 50; i++) {
            items[i] = new MsgItem.Port(f.allocate(A), MsgType.MOVE_RECEIVE);
        }
        items[50] = new MsgItem.Port(root, MsgType.MOVE_RECEIVE);
        assertThat(f.send(A, IpcFixture.to(send, 3).withBody(items)).code()).as("GNU's circular message: destroyed, success")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortType(A, root).code()).as("the root's receive right ended with the message")
                .isEqualTo(KernReturn.KERN_INVALID_NAME);
    }

    @Test
    void aChainStopsAtTheBoundAndASendToItsEndWalksNoFurther() {
        int deepest = f.allocate(A);
        int send = f.sendRightIn(A, deepest, A);
        int prev = deepest;
        int links = 0;
        KernReturn last = KernReturn.MACH_MSG_SUCCESS;
        while (links < 10 * TransitChains.MAX_DEPTH) {
            int next = f.allocate(A);
            last = f.send(A, MachMessage.to(next, MsgType.MAKE_SEND, 1)
                    .withBody(new MsgItem.Port(prev, MsgType.MOVE_RECEIVE))).code();
            if (last != KernReturn.MACH_MSG_SUCCESS) {
                break;
            }
            links++;
            prev = next;
        }
        assertThat(last).as("a receive right sent to a port deeper than the bound: refused").isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(links + 1).as("ports in the chain").isEqualTo(TransitChains.MAX_DEPTH);
        assertThat(f.type(A, prev) & PortRight.RECEIVE.typeBit()).as("the refused send moved nothing: its receive right stays").isNotZero();

        int extra = f.allocate(A);
        long before = f.ipc.work.cycleSteps;
        assertThat(f.send(A, IpcFixture.to(send, 4).withBody(new MsgItem.Port(extra, MsgType.MOVE_RECEIVE))).code())
                .isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(f.ipc.work.cycleSteps - before).isLessThanOrEqualTo(TransitChains.MAX_DEPTH + 1L);
        assertThat(f.send(A, IpcFixture.to(send, 5)).code()).as("a message without receive rights still goes")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
    }

    @Test
    void aChainGrownAtItsDeepEndStopsAtTheBoundToo() {
        int root = f.allocate(A);
        int deepest = f.sendRightIn(A, root, A);
        int links = 0;
        KernReturn last = KernReturn.MACH_MSG_SUCCESS;
        while (links < 10 * TransitChains.MAX_DEPTH) {
            int next = f.allocate(A);
            int toNext = f.sendRightIn(A, next, A);
            last = f.send(A, IpcFixture.to(deepest, 1).withBody(new MsgItem.Port(next, MsgType.MOVE_RECEIVE))).code();
            if (last != KernReturn.MACH_MSG_SUCCESS) {
                break;
            }
            links++;
            deepest = toNext;
        }
        assertThat(last).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(links + 1).as("ports in the chain").isEqualTo(TransitChains.MAX_DEPTH);
    }
}
