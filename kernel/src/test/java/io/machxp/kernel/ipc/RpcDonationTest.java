package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Priority donation through synchronous RPC in the IPC core: which receive starts a donation, what
 * it carries (on one kernel and across kernels), and every way the reply right going ends it.
 */
class RpcDonationTest {
    private static final int NAME = 0x500;

    /** A scheduler that records donations: thread -> (key -> priority); every thread's own priority is given. */
    static final class Recording implements IpcSched {
        final Map<Integer, Integer> priorities = new HashMap<>();
        final Map<Integer, Map<Object, Integer>> donations = new HashMap<>();

        @Override
        public int priority(int tid) {
            return priorities.getOrDefault(tid, 0);
        }

        @Override
        public void donate(int tid, Object key, int priority) {
            donations.computeIfAbsent(tid, t -> new HashMap<>()).put(key, priority);
        }

        @Override
        public void endDonation(int tid, Object key) {
            donations.get(tid).remove(key);
        }

        /** What thread {@code tid} holds in donations now. */
        java.util.Collection<Integer> of(int tid) {
            return donations.getOrDefault(tid, Map.of()).values();
        }
    }

    private final IpcCluster c = new IpcCluster(2);
    private final Recording server = new Recording();
    private final Recording client = new Recording();
    private final int service;
    private final int replyPort;

    RpcDonationTest() {
        c.core(1).attachSched(server);
        c.core(2).attachSched(client);
        client.priorities.put(IpcCluster.tid(2), 90);
        service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, NAME);
        replyPort = c.allocate(2);
    }

    private IpcFixture.Call rpc() {
        return c.msg(2, IpcCluster.tid(2), MachMessage.to(NAME, MsgType.COPY_SEND, 1)
                .withReply(replyPort, MsgType.MAKE_SEND_ONCE), Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, replyPort);
    }

    private MachMessage serverReceives() {
        c.deliverAll();
        return c.msg(1, 100, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, service).message();
    }

    @Test
    void theServerRunsAtTheClientsPriorityFromReceivingTheRequestUntilItReplies() {
        IpcFixture.Call call = rpc();
        assertThat(server.of(100)).isEmpty();
        MachMessage request = serverReceives();
        assertThat(server.of(100)).containsExactly(90);
        c.msg(1, 100, MachMessage.to(request.remotePort(), MsgType.MOVE_SEND_ONCE, 2), Mach.MACH_SEND_MSG, 0);
        assertThat(server.of(100)).as("ended by the reply").isEmpty();
        c.deliverAll();
        assertThat(call.message().id()).isEqualTo(2);
    }

    @Test
    void aSendThatDoesNotWaitForItsReplyDonatesNothing() {
        c.msg(2, IpcCluster.tid(2), MachMessage.to(NAME, MsgType.COPY_SEND, 1)
                .withReply(replyPort, MsgType.MAKE_SEND_ONCE), Mach.MACH_SEND_MSG, 0);
        serverReceives();
        assertThat(server.of(100)).isEmpty();
    }

    @Test
    void destroyingOrPassingOnTheReplyRightEndsTheDonation() {
        rpc();
        MachMessage first = serverReceives();
        assertThat(c.core(1).machPortDestroy(1, first.remotePort())).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(server.of(100)).isEmpty();

        rpc();
        MachMessage second = serverReceives();
        int elsewhere = c.allocate(1);
        c.msg(1, 100, MachMessage.to(elsewhere, MsgType.MAKE_SEND, 3)
                .withBody(new MsgItem.Port(second.remotePort(), MsgType.MOVE_SEND_ONCE)), Mach.MACH_SEND_MSG, 0);
        assertThat(server.of(100)).as("moved on: a known limit, the donation does not follow it").isEmpty();
    }

    @Test
    void theClientsDeathEndsTheDonationWhenTheServerNextLooksAtTheReplyRight() {
        rpc();
        MachMessage request = serverReceives();
        c.core(2).spaceDestroy(2);
        c.deliverAll();
        assertThat(c.type(1, request.remotePort())).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(server.of(100)).isEmpty();
    }
}
