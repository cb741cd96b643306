package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The payer check ({@link UnpaidNames}, review linkpool LOW-1) is exact for a client's messages
 * to an in-process receiver: seeded random messages of client X, each sent twice in two kernels
 * built alike. In the first X has room: the send and the receive succeed (or the send answers
 * copyin's error), and the change in X's names from before the send to after the receive is what
 * the message costs X (names made in B less X's names freed). In the second X has only k names
 * left (k from 0 to 3): the send must answer the same error, or succeed exactly when that cost is
 * at most k, and then be received whole, never with a right destroyed for want of a name.
 * Rights: X's receive right with 0-2 send references, a send right with 1-3 references (whose
 * port B may name already), a send-once right, a send right to a port B holds, a dead name; the
 * header's destination copied or moved (1-2 references), its reply none, a made send-once right
 * or a copied send right.
 */
class PayerNamesSeededTest {
    private static final Object CLIENT = "client";
    private static final long X = 10;
    /** Per name of {@link World#names}: the dispositions drawn for it (mostly ones it allows). */
    private static final MsgType[][] DISPOSITIONS = {
        {MsgType.MOVE_RECEIVE, MsgType.MAKE_SEND, MsgType.MAKE_SEND_ONCE, MsgType.MOVE_SEND, MsgType.COPY_SEND},
        {MsgType.MOVE_SEND, MsgType.COPY_SEND, MsgType.MOVE_SEND_ONCE},
        {MsgType.MOVE_SEND_ONCE},
        {MsgType.MOVE_SEND, MsgType.COPY_SEND},
        {MsgType.MOVE_SEND, MsgType.COPY_SEND},
    };

    /** One kernel with X's rights, built from {@code seed} alike every time. */
    private static final class World {
        final IpcFixture f = new IpcFixture();
        final int inbox;
        final int to;
        final int[] names;

        World(long seed) {
            Random r = new Random(seed);
            f.ipc.limitNames(f.ipc.namesInUse() + 8_000);
            f.ipc.spaceCreate(X, CLIENT);
            inbox = f.allocate(B);
            to = f.sendRightIn(B, inbox, X);
            addRefs(to, r.nextInt(2));
            int p = f.allocate(X);
            int sends = r.nextInt(3);
            if (sends > 0) {
                assertThat(f.ipc.machPortInsertRight(X, p, X, p, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
                addRefs(p, sends - 1);
            }
            int aq = f.allocate(A);
            int q = f.sendRightIn(A, aq, X);
            addRefs(q, r.nextInt(3));
            if (r.nextBoolean()) {
                f.sendRightIn(A, aq, B); // B names q's port already
            }
            int s = f.ipc.machPortExtractRight(A, f.allocate(A), MsgType.MAKE_SEND_ONCE, X).orThrow("extract").name();
            int bs = f.sendRightIn(B, f.allocate(B), X);
            int ad = f.allocate(A);
            int d = f.sendRightIn(A, ad, X);
            assertThat(f.ipc.machPortDestroy(A, ad)).isEqualTo(KernReturn.KERN_SUCCESS);
            names = new int[] {p, q, s, bs, d};
        }

        private void addRefs(int name, int n) {
            if (n > 0) {
                assertThat(f.ipc.machPortModRefs(X, name, PortRight.SEND.value, n)).isEqualTo(KernReturn.KERN_SUCCESS);
            }
        }

        /** Leaves X exactly {@code k} names. */
        void leave(int k) {
            List<Integer> dead = new ArrayList<>();
            IpcResult<Integer> r;
            while ((r = f.ipc.machPortAllocate(X, PortRight.DEAD_NAME.value)).code() == KernReturn.KERN_SUCCESS) {
                dead.add(r.orThrow("dead"));
            }
            for (int i = 0; i < k; i++) {
                assertThat(f.ipc.machPortDeallocate(X, dead.get(i))).isEqualTo(KernReturn.KERN_SUCCESS);
            }
            assertThat(f.ipc.namesOfPeerOf(CLIENT)).isEqualTo(f.ipc.names().peerMax() - k);
        }
    }

    private static MachMessage message(World w, Random r) {
        MachMessage m = MachMessage.to(w.to, r.nextBoolean() ? MsgType.MOVE_SEND : MsgType.COPY_SEND, 1);
        switch (r.nextInt(3)) {
            case 1 -> m = m.withReply(w.names[0], MsgType.MAKE_SEND_ONCE);
            case 2 -> m = m.withReply(w.names[1], MsgType.COPY_SEND);
            default -> {}
        }
        MsgItem[] items = new MsgItem[1 + r.nextInt(4)];
        for (int i = 0; i < items.length; i++) {
            int n = r.nextInt(w.names.length);
            items[i] = new MsgItem.Port(w.names[n], DISPOSITIONS[n][r.nextInt(DISPOSITIONS[n].length)]);
        }
        return m.withBody(items);
    }

    @Test
    void aClientsMessageIsRefusedExactlyWhenItsNamesDoNotFitWhatTheClientHasLeft() {
        int[] seen = new int[3]; // sent, refused, copyin's error
        for (long seed = 0; seed < 600; seed++) {
            World roomy = new World(seed);
            MachMessage m = message(roomy, new Random(seed * 31 + 7));
            int before = roomy.f.ipc.namesOfPeerOf(CLIENT);
            KernReturn sent = roomy.f.send(X, m).code();
            int cost = 0;
            if (sent == KernReturn.MACH_MSG_SUCCESS) {
                assertThat(roomy.f.poll(B, roomy.inbox).code()).as("seed %d", seed).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
                cost = roomy.f.ipc.namesOfPeerOf(CLIENT) - before;
            }

            int k = (int) (seed % 4);
            World tight = new World(seed);
            tight.leave(k);
            KernReturn got = tight.f.send(X, message(tight, new Random(seed * 31 + 7))).code();
            if (sent != KernReturn.MACH_MSG_SUCCESS) {
                assertThat(got).as("seed %d: copyin's error", seed).isEqualTo(sent);
                seen[2]++;
            } else if (cost > k) {
                assertThat(got).as("seed %d: costs %d, %d left", seed, cost, k).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
                seen[1]++;
            } else {
                assertThat(got).as("seed %d: costs %d, %d left", seed, cost, k).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
                assertThat(tight.f.poll(B, tight.inbox).code()).as("seed %d: received whole", seed)
                        .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
                seen[0]++;
            }
        }
        System.out.printf("payer check: sent %d, refused %d, copyin's errors %d%n", seen[0], seen[1], seen[2]);
        assertThat(java.util.Arrays.stream(seen).min().orElseThrow()).as("sent, refused, copyin's errors: each seen")
                .isGreaterThanOrEqualTo(20);
    }
}
