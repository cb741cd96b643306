package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review F6 (ipc-review.md): one client's tasks could take every port name of the kernel (sixteen
 * tasks of 2^16), after which every other task's allocate was KERN_RESOURCE_SHORTAGE and an
 * honest server's receive of a request with a reply right MACH_RCV_HEADER_ERROR|IPC_SPACE. Now a
 * client's tasks (one owner, here its own peer) hold at most a share of the remote pool together
 * ({@link NameBudget#peerMax}).
 */
class NameShareTest {
    private final IpcFixture f = new IpcFixture();
    private static final Object ATTACKER = "connection 1";
    private static final Object HONEST = "connection 2";

    @Test
    void oneClientsTasksCannotTakeTheNamesAnotherClientsServerNeeds() {
        f.ipc.limitNames(f.ipc.namesInUse() + 4_000); // a client's part: 1,000
        long server = 50;
        f.ipc.spaceCreate(server, HONEST);
        int service = f.allocate(server);
        int toService = f.sendRightIn(server, service, A);
        int reply = f.allocate(A);

        // the attacker's tasks receive messages full of send-once rights, as in the review's probe
        long sender = 10;
        f.ipc.spaceCreate(sender, ATTACKER);
        int p = f.allocate(sender);
        List<Long> receivers = new ArrayList<>();
        for (long r = 20; r < 36; r++) {
            f.ipc.spaceCreate(r, ATTACKER);
            receivers.add(r);
        }
        int[] inboxes = new int[receivers.size()];
        int[] tos = new int[receivers.size()];
        for (int i = 0; i < inboxes.length; i++) {
            inboxes[i] = f.allocate(receivers.get(i));
            tos[i] = f.sendRightIn(receivers.get(i), inboxes[i], sender);
        }
        KernReturn lastReceive = KernReturn.MACH_MSG_SUCCESS;
        for (int n = 0; n < inboxes.length; n++) {
            long r = receivers.get(n);
            int inbox = inboxes[n];
            int to = tos[n];
            MsgItem[] items = new MsgItem[500];
            for (int i = 0; i < items.length; i++) {
                items[i] = new MsgItem.Port(p, MsgType.MAKE_SEND_ONCE);
            }
            assertThat(f.send(sender, IpcFixture.to(to, 1).withBody(items)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            lastReceive = f.poll(r, inbox).result().code();
        }
        assertThat(lastReceive).as("the attacker's own tasks ran out of names").isEqualTo(KernReturn.MACH_RCV_BODY_ERROR_IPC_SPACE);
        assertThat(f.ipc.machPortAllocate(receivers.get(0), PortRight.RECEIVE.value).code())
                .isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);

        assertThat(f.ipc.machPortAllocate(server, PortRight.RECEIVE.value).code()).as("the honest client's task still allocates")
                .isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.send(A, IpcFixture.to(toService, 7).withReply(reply, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.poll(server, service).result().code()).as("and receives a request with a reply right")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortAllocate(B, PortRight.RECEIVE.value).code()).as("a task without an owner too")
                .isEqualTo(KernReturn.KERN_SUCCESS);

        receivers.forEach(f.ipc::spaceDestroy);
        assertThat(f.ipc.machPortAllocate(sender, PortRight.RECEIVE.value).code())
                .as("names the client's ended tasks held are its part again").isEqualTo(KernReturn.KERN_SUCCESS);
    }

    @Test
    void aClientsPartIsItsShareOfTheRemotePool() {
        int base = f.ipc.namesInUse();
        f.ipc.limitNames(base + 400);
        int made = 0;
        for (long t = 60; t < 70; t++) {
            f.ipc.spaceCreate(t, ATTACKER);
            while (f.ipc.machPortAllocate(t, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
                made++;
            }
        }
        int pool = (base + 400) - (base + 400) / NameBudget.RESERVE_SHARES;
        assertThat(made).isEqualTo(pool / NameBudget.PEER_SHARES);
    }

    /** A connection of a peer (a host, a certificate): what the kernel's gRPC server gives each connection. */
    private record Connection(int number, String peer) implements NameOwner {}

    /**
     * Review gi F4: one client with several connections took every name again (a quarter each).
     * Now the connections of one peer share one share of the remote pool, so greedy peers leave
     * names for a client of another peer, and the reserve for in-process tasks (review late3 A1).
     */
    @Test
    void severalConnectionsOfOnePeerOrSeveralPeersLeaveNamesForOthers() {
        int base = f.ipc.namesInUse();
        int max = base + 1_600;
        f.ipc.limitNames(max);
        int share = (max - max / NameBudget.RESERVE_SHARES) / NameBudget.PEER_SHARES;
        long task = 100;
        int[] held = new int[3];
        for (int peer = 0; peer < held.length; peer++) {
            for (int c = 0; c < 8; c++) {
                f.ipc.spaceCreate(++task, new Connection(c, "greedy host " + peer));
                while (f.ipc.machPortAllocate(task, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
                    held[peer]++;
                }
                assertThat(f.ipc.machPortAllocate(task, PortRight.DEAD_NAME.value).code())
                        .isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
            }
        }
        assertThat(held).as("each peer its share, whatever its connections").containsOnly(share);

        f.ipc.spaceCreate(++task, new Connection(0, "honest host"));
        int honest = 0;
        while (f.ipc.machPortAllocate(task, PortRight.RECEIVE.value).code() == KernReturn.KERN_SUCCESS) {
            honest++;
        }
        assertThat(honest).as("a client of another peer: its whole share beside three greedy peers").isEqualTo(share);
        for (int i = 0; i < max / NameBudget.RESERVE_SHARES; i++) {
            assertThat(f.ipc.machPortAllocate(B, PortRight.RECEIVE.value).code()).as("a task without an owner too")
                    .isEqualTo(KernReturn.KERN_SUCCESS);
        }
    }
}
