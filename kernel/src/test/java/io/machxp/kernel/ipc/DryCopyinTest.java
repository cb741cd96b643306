package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link DryCopyin}, the send's copyin ({@link MsgCopyin}) run on a tally of the sender's names,
 * finds what the real copyin does (review late13 LOW-6): random messages from in-process A
 * (whose rights no payer check refuses) to B, each body's items drawn from A's names - a receive
 * right with 0-2 send references, a send-once right, a dead name with 1-2 references, a port set,
 * a send right A got from client X's task (its name counts to X), the header's own destination,
 * names that denote nothing - with every disposition, and out-of-line regions moved, sent twice,
 * or already moved away; the header's destination moved or copied, its reply none, the same name
 * (MOVE_SEND / COPY_SEND) or another right. The send's result must be the dry run's error
 * (MACH_MSG_SUCCESS for none), and once sent, the rights the queued message carries (reply and
 * body, dead ones left out, with their payers) must be the dry run's, and the names A lost the
 * ones it said copyin frees. Seeded: the same messages every run.
 */
class DryCopyinTest {
    private static final MsgType[] DISPOSITIONS = {MsgType.MOVE_RECEIVE, MsgType.MOVE_SEND, MsgType.COPY_SEND,
        MsgType.MAKE_SEND, MsgType.MAKE_SEND_ONCE, MsgType.MOVE_SEND_ONCE, MsgType.PORT_NAME};

    /** A task of client X's: a right it gives A makes a name there that counts to X. */
    private static final long X = 3;

    @Test
    void theDryRunFindsWhatCopyinDoes() {
        Random random = new Random(13);
        int[] answers = new int[4];
        int carriedRights = 0;
        int freedNames = 0;
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
            f.ipc.spaceCreate(X, "client X");
            int lent = f.ipc.machPortExtractRight(X, f.allocate(X), MsgType.MAKE_SEND, A).orThrow("extract").name();
            int[] names = {to, recv, once, dead, set, lent, 0x7777, Mach.MACH_PORT_NULL, Mach.MACH_PORT_DEAD};
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
            IpcSpace a = f.ipc.space(A);
            if (SameNameHeader.applies(m) && !SameNameHeader.check(f.ipc.rights, a, m).ok()) {
                // a header copyin refuses before the body: the dry run, which follows the header's check, is not asked
                assertThat(f.send(A, m).code()).isEqualTo(KernReturn.MACH_SEND_INVALID_DEST);
                answers[3]++;
                continue;
            }
            DryCopyin.Result dry = DryCopyin.run(a, m);
            KernReturn expected = dry.error() == null ? KernReturn.MACH_MSG_SUCCESS : dry.error();
            List<IpcEntry> before = a.all();
            KernReturn got = f.send(A, m).code();
            assertThat(got).as("round %d: %s %s", round, m, body).isEqualTo(expected);
            answers[expected == KernReturn.MACH_MSG_SUCCESS ? 0 : expected == KernReturn.MACH_SEND_INVALID_RIGHT ? 1
                    : 2]++;
            if (got == KernReturn.MACH_MSG_SUCCESS) {
                KMsg queued = f.ipc.space(B).lookup(inbox).port().queue.peek();
                assertThat(queued).as("round %d: queued", round).isNotNull();
                assertThat(carried(queued)).as("round %d: carried %s %s", round, m, body).isEqualTo(dry.carried());
                assertThat(freed(before, a.all())).as("round %d: freed %s %s", round, m, body)
                        .isEqualTo(identitySet(dry.freed()));
                carriedRights += dry.carried().size();
                freedNames += dry.freed().size();
            }
        }
        assertThat(answers[0]).as("sent").isGreaterThan(300);
        assertThat(answers[1]).as("invalid right").isGreaterThan(300);
        assertThat(answers[2]).as("invalid memory").isGreaterThan(30);
        assertThat(answers[3]).as("header refused").isLessThan(600);
        assertThat(carriedRights).as("rights carried").isGreaterThan(300);
        assertThat(freedNames).as("names freed").isGreaterThan(100);
    }

    /** The rights the queued message carries that copyout gives names: the reply, then the body's (dead ones left out). */
    private static List<Carried> carried(KMsg k) {
        List<Carried> out = new ArrayList<>();
        if (k.reply != null && !k.reply.dead()) {
            out.add(k.reply);
        }
        for (KMsg.Item i : k.items) {
            if (i instanceof KMsg.Right r && !r.right().dead()) {
                out.add(r.right());
            }
        }
        return out;
    }

    /** The entries of {@code before} that {@code after} no longer holds. */
    private static Set<IpcEntry> freed(List<IpcEntry> before, List<IpcEntry> after) {
        Set<IpcEntry> out = identitySet(before);
        out.removeAll(identitySet(after));
        return out;
    }

    private static Set<IpcEntry> identitySet(List<IpcEntry> entries) {
        Set<IpcEntry> out = Collections.newSetFromMap(new IdentityHashMap<>());
        out.addAll(entries);
        return out;
    }

    private static void addRefs(IpcFixture f, int name, PortRight right, int n) {
        if (n > 0) {
            assertThat(f.ipc.machPortModRefs(A, name, right.value, n)).isEqualTo(KernReturn.KERN_SUCCESS);
        }
    }
}
