package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link DryCopyin} answers what copyin answers (review late13 LOW-6): random messages from
 * in-process A (whose rights no payer check refuses) to B, each body's items drawn from A's
 * names - a receive right with 0-2 send references, a send-once right, a dead name with 1-2
 * references, a port set, the header's own destination, names that denote nothing - with every
 * disposition, and out-of-line regions moved, sent twice, or already moved away; the header's
 * destination moved or copied, its reply none, the same name (MOVE_SEND / COPY_SEND) or another
 * right. The send's
 * result must be what the dry run said before it (MACH_MSG_SUCCESS for none). Seeded: the same
 * messages every run.
 */
class DryCopyinTest {
    private static final MsgType[] DISPOSITIONS = {MsgType.MOVE_RECEIVE, MsgType.MOVE_SEND, MsgType.COPY_SEND,
        MsgType.MAKE_SEND, MsgType.MAKE_SEND_ONCE, MsgType.MOVE_SEND_ONCE, MsgType.PORT_NAME};

    @Test
    void theDryRunAnswersAsCopyinDoes() {
        Random random = new Random(13);
        int[] answers = new int[4];
        for (int round = 0; round < 3_000; round++) {
            IpcFixture f = new IpcFixture();
            int inbox = f.allocate(B);
            int to = f.sendRightIn(B, inbox, A);
            addRefs(f, to, PortRight.SEND, random.nextInt(2));
            int recv = f.allocate(A);
            if (random.nextBoolean()) {
                assertThat(f.ipc.machPortInsertRight(A, recv, A, recv, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
                addRefs(f, recv, PortRight.SEND, random.nextInt(2));
            }
            int once = f.ipc.machPortExtractRight(A, f.allocate(A), MsgType.MAKE_SEND_ONCE, A).orThrow("extract").name();
            int dead = f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).orThrow("allocate");
            addRefs(f, dead, PortRight.DEAD_NAME, random.nextInt(2));
            int set = f.allocateSet(A);
            int[] names = {to, recv, once, dead, set, 0x7777, Mach.MACH_PORT_NULL, Mach.MACH_PORT_DEAD};
            OolRegion region = OolRegion.of(new byte[] {1, 2});
            if (random.nextInt(8) == 0) {
                assertThat(f.send(A, MachMessage.to(recv, MsgType.MAKE_SEND_ONCE, 1)
                        .withBody(new MsgItem.OutOfLine(region, true))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            }
            List<MsgItem> body = new ArrayList<>();
            int items = 1 + random.nextInt(4);
            for (int i = 0; i < items; i++) {
                if (random.nextInt(4) == 0) {
                    body.add(new MsgItem.OutOfLine(region, random.nextBoolean()));
                } else {
                    body.add(new MsgItem.Port(names[random.nextInt(names.length)],
                            DISPOSITIONS[random.nextInt(DISPOSITIONS.length)]));
                }
            }
            MsgType dest = random.nextBoolean() ? MsgType.MOVE_SEND : MsgType.COPY_SEND;
            MachMessage m = MachMessage.to(to, dest, 2);
            int reply = random.nextInt(6);
            if (reply > 0) { // the destination's own name (GNU's same-name header), or another right
                int[] replyNames = {to, to, recv, once, recv};
                MsgType[] replyTypes = {MsgType.COPY_SEND, MsgType.MOVE_SEND, MsgType.MAKE_SEND_ONCE,
                    MsgType.MOVE_SEND_ONCE, MsgType.MAKE_SEND};
                m = m.withReply(replyNames[reply - 1], replyTypes[reply - 1]);
            }
            m = m.withBody(body.toArray(MsgItem[]::new));
            KernReturn said = DryCopyin.bodyError(f.ipc.space(A), m);
            KernReturn expected = said == null ? KernReturn.MACH_MSG_SUCCESS : said;
            KernReturn got = f.send(A, m).code();
            if (got == KernReturn.MACH_SEND_INVALID_DEST || got == KernReturn.MACH_SEND_INVALID_REPLY) {
                answers[3]++; // a header copyin refuses before the body: the dry run is not asked there
                continue;
            }
            assertThat(got).as("round %d: %s %s", round, m, body).isEqualTo(expected);
            answers[expected == KernReturn.MACH_MSG_SUCCESS ? 0 : expected == KernReturn.MACH_SEND_INVALID_RIGHT ? 1
                    : 2]++;
        }
        assertThat(answers[0]).as("sent").isGreaterThan(300);
        assertThat(answers[1]).as("invalid right").isGreaterThan(300);
        assertThat(answers[2]).as("invalid memory").isGreaterThan(30);
        assertThat(answers[3]).as("header refused").isLessThan(600);
    }

    private static void addRefs(IpcFixture f, int name, PortRight right, int n) {
        if (n > 0) {
            assertThat(f.ipc.machPortModRefs(A, name, right.value, n)).isEqualTo(KernReturn.KERN_SUCCESS);
        }
    }
}
