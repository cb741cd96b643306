package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The two bounds on what a task can make its kernel keep, held on every path we know of: names
 * per task ({@link IpcSpace#MAX_NAMES}: not only allocate, also rights that arrive) and bytes of
 * queued messages per kernel (a message to a send-once right ignores qlimit, so qlimit alone bounds
 * nothing): messages queued, messages of blocked senders (qlimit 0), notifications on a port held
 * or in transit, and the send-once rights they come from. GNU Mach's answers when kernel memory or
 * a name space runs out. The paths across kernels are in {@link QueuedBytesAcrossKernelsTest}.
 */
class IpcBoundsTest {
    private final IpcFixture f = new IpcFixture();

    /** Fills task {@code task}'s name space with dead names. */
    private void fill(long task) {
        int made = 0;
        while (f.ipc.machPortAllocate(task, PortRight.DEAD_NAME.value).code() == KERN_SUCCESS) {
            made++;
        }
        assertThat(made).isPositive().isLessThanOrEqualTo(IpcSpace.MAX_NAMES);
        assertThat(f.ipc.machPortAllocate(task, PortRight.RECEIVE.value).code()).isEqualTo(KERN_NO_SPACE);
    }

    /**
     * The kernel's budget of names for all tasks together ({@link NameBudget}): at it, every task's
     * call that would make a name is KERN_RESOURCE_SHORTAGE, a right arriving that needs a name is
     * destroyed as in a full space, and names freed by any task, or by a task's end, make room.
     */
    @Test
    void theKernelsNamesForAllTasksAreBoundedAndFreedNamesMakeRoom() {
        int base = f.ipc.namesInUse();
        int service = f.allocate(B);
        int toService = f.sendRightIn(B, service, A);
        f.ipc.limitNames(base + 40);
        java.util.List<Integer> made = new java.util.ArrayList<>();
        IpcResult<Integer> r;
        while ((r = f.ipc.machPortAllocate(A, PortRight.RECEIVE.value)).code() == KERN_SUCCESS) {
            made.add(r.orThrow("allocate"));
        }
        assertThat(f.ipc.namesInUse()).isEqualTo(base + 40);
        assertThat(made).hasSize(40 - 2);
        assertThat(f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).code()).isEqualTo(KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.machPortAllocate(B, PortRight.PORT_SET.value).code()).as("another task too")
                .isEqualTo(KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.machPortDestroy(A, made.get(3))).isEqualTo(KERN_SUCCESS);
        int replyPort = f.allocate(A);
        assertThat(f.send(A, IpcFixture.to(toService, 1).withReply(replyPort, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.poll(B, service).result().code()).as("B's reply right needs a name: none left in the kernel")
                .isEqualTo(MACH_RCV_HEADER_ERROR_IPC_SPACE);

        f.ipc.spaceDestroy(A);
        assertThat(f.ipc.namesInUse()).as("A's names all went with it").isEqualTo(base + 1);
        assertThat(f.ipc.machPortAllocate(B, PortRight.PORT_SET.value).code()).isEqualTo(KERN_SUCCESS);
    }

    /** extract_right into a full space: KERN_NO_SPACE, nothing moved; a send right joining an existing name still goes in. */
    @Test
    void extractRightIntoAFullSpaceIsNoSpace() {
        int p = f.allocate(A);
        int bSend = f.sendRightIn(A, p, B);
        int dead = f.ipc.machPortAllocate(B, PortRight.DEAD_NAME.value).orThrow("allocate");
        fill(B);
        var once = f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, B);
        assertThat(once.code()).isEqualTo(KERN_NO_SPACE);
        assertThat(f.status(A, p).sorights()).as("nothing made").isZero();
        assertThat(f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND, B).orThrow("join").name()).isEqualTo(bSend);
        assertThat(f.refs(B, bSend, PortRight.SEND)).isEqualTo(2);
        assertThat(f.ipc.machPortDeallocate(B, dead)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, B).code()).as("room again")
                .isEqualTo(KERN_SUCCESS);
    }

    /** request_notification returning a previous send-once right into a full space: KERN_NO_SPACE, the request unchanged. */
    @Test
    void aPreviousRequestNeedingANameInAFullSpaceIsNoSpace() {
        int p = f.allocate(A);
        int notify = f.allocate(A);
        assertThat(f.ipc.machPortRequestNotification(A, p, Mach.MACH_NOTIFY_NO_SENDERS, 1, notify,
                MsgType.MAKE_SEND_ONCE).orThrow("request")).isEqualTo(Mach.MACH_PORT_NULL);
        fill(A);
        assertThat(f.ipc.machPortRequestNotification(A, p, Mach.MACH_NOTIFY_NO_SENDERS, 1, notify,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_NO_SPACE);
        assertThat(f.ipc.machPortRequestNotification(A, p, Mach.MACH_NOTIFY_NO_SENDERS, 1, Mach.MACH_PORT_NULL,
                MsgType.MAKE_SEND_ONCE).code()).as("a cancel returns it too").isEqualTo(KERN_NO_SPACE);
        assertThat(f.status(A, p).nsrequest()).isTrue();
        assertThat(f.status(A, notify).sorights()).as("one request, one right").isEqualTo(1);
    }

    /**
     * A message whose reply right needs a name in the receiver's full space: MACH_RCV_HEADER_ERROR
     * | MACH_MSG_IPC_SPACE, dequeued and destroyed (the send-once reply says SEND_ONCE); one whose
     * body rights need names: MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE, received with those rights
     * destroyed and named NULL, the others in place.
     */
    @Test
    void aFullSpaceLosesTheRightsThatNeedNewNames() {
        int service = f.allocate(B);
        int toService = f.sendRightIn(B, service, A);
        int reply = f.allocate(A);
        int other = f.allocate(A);
        int dead = f.ipc.machPortAllocate(B, PortRight.DEAD_NAME.value).orThrow("allocate");
        fill(B);
        assertThat(f.send(A, IpcFixture.to(toService, 1).withReply(reply, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        MsgReturn header = f.poll(B, service).result();
        assertThat(header.code()).isEqualTo(MACH_RCV_HEADER_ERROR_IPC_SPACE);
        assertThat(header.message().remotePort()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(header.message().localPort()).isEqualTo(service);
        assertThat(f.status(B, service).msgcount()).as("dequeued").isZero();
        assertThat(f.take(A, reply).id()).as("the reply right said it was not used").isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);

        assertThat(f.send(A, IpcFixture.to(toService, 2).withBody(new MsgItem.Port(other, MsgType.MAKE_SEND_ONCE),
                new MsgItem.Port(service, MsgType.PORT_NAME), MachMessage.int32(7))).code()).isEqualTo(MACH_MSG_SUCCESS);
        MsgReturn body = f.poll(B, service).result();
        assertThat(body.code()).isEqualTo(MACH_RCV_BODY_ERROR_IPC_SPACE);
        assertThat(body.message().id()).isEqualTo(2);
        assertThat(body.message().body().get(0)).isEqualTo(new MsgItem.Port(Mach.MACH_PORT_NULL, MsgType.PORT_SEND_ONCE));
        assertThat(body.message().body().get(1)).isEqualTo(new MsgItem.Port(service, MsgType.PORT_NAME));
        assertThat(body.message().intItem(2)).isEqualTo(7);
        assertThat(f.take(A, other).id()).as("the lost send-once right said so").isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);

        assertThat(f.ipc.machPortDeallocate(B, dead)).isEqualTo(KERN_SUCCESS);
        assertThat(f.send(A, IpcFixture.to(toService, 3).withReply(reply, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.take(B, service).remotePort()).as("room again: the reply right is named").isNotZero();
    }

    /**
     * A timed-out send gives its rights back to the sender (pseudo-receive); into a full space, the
     * rights that would need new names are destroyed and the code says so: MACH_SEND_TIMED_OUT |
     * MACH_MSG_IPC_SPACE (else a full queue would make names without end).
     */
    @Test
    void aTimedOutSendIntoAFullSpaceLosesTheRightsThatNeedNames() {
        int q = f.allocate(B);
        assertThat(f.ipc.machPortSetQlimit(B, q, 0)).isEqualTo(KERN_SUCCESS);
        int toQ = f.sendRightIn(B, q, A);
        int mine = f.allocate(A);
        fill(A);
        MachMessage m = IpcFixture.to(toQ, 1).withBody(new MsgItem.Port(mine, MsgType.MAKE_SEND_ONCE));
        assertThat(f.sendTimeout(A, m, 0).code()).isEqualTo(MACH_SEND_TIMED_OUT_IPC_SPACE);
        assertThat(f.refs(A, toQ, PortRight.SEND)).as("the destination's copy came back to its name").isEqualTo(2);
        assertThat(f.take(A, mine).id()).as("the send-once right could not come back").isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(f.status(A, mine).sorights()).isZero();
    }

    /**
     * Messages to a send-once right ignore qlimit, so without a budget a task could queue without
     * end: beyond its share of the kernel's budget of queued bytes (a quarter), or beyond the
     * budget, a send is MACH_SEND_NO_BUFFER with nothing done (the rights stay where they were);
     * receiving makes room again, and a dead port's messages leave the budget.
     */
    @Test
    void queuedMessagesBeyondTheKernelsBudgetAreNoBuffer() {
        byte[] kb = new byte[1024];
        long each = MsgSend.cost(MachMessage.to(1, MsgType.MAKE_SEND_ONCE, 0).withBody(new MsgItem.Inline(kb)));
        f.ipc.limitQueuedBytes(each * 8);
        long[] tasks = {A, B, 3, 4, 5};
        int[] ports = new int[tasks.length];
        int[] sent = new int[tasks.length];
        for (int i = 0; i < tasks.length; i++) {
            if (tasks[i] > B) {
                f.ipc.spaceCreate(tasks[i]);
            }
            ports[i] = f.allocate(tasks[i]);
            KernReturn last;
            do {
                last = f.msg(tasks[i], 300 + i, MachMessage.to(ports[i], MsgType.MAKE_SEND_ONCE, sent[i])
                        .withBody(new MsgItem.Inline(kb)), Mach.MACH_SEND_MSG, 0, 0, 0).code();
                if (last == MACH_MSG_SUCCESS) {
                    sent[i]++;
                }
            } while (last == MACH_MSG_SUCCESS && sent[i] < 100);
            assertThat(last).isEqualTo(MACH_SEND_NO_BUFFER);
        }
        assertThat(sent).as("two each (a quarter of the budget), until the budget is full").containsExactly(2, 2, 2, 2, 0);
        assertThat(f.status(A, ports[0]).msgcount()).as("past qlimit").isEqualTo(2);
        assertThat(f.status(tasks[4], ports[4]).sorights()).as("the refused message made no right").isZero();
        assertThat(f.ipc.queuedBytes()).isEqualTo(each * 8);
        assertThat(f.take(A, ports[0]).id()).isZero();
        assertThat(f.msg(tasks[4], 304, MachMessage.to(ports[4], MsgType.MAKE_SEND_ONCE, 9).withBody(new MsgItem.Inline(kb)),
                Mach.MACH_SEND_MSG, 0, 0, 0).code()).as("room again").isEqualTo(MACH_MSG_SUCCESS);
        for (int i = 0; i < tasks.length; i++) {
            assertThat(f.ipc.machPortDestroy(tasks[i], ports[i])).isEqualTo(KERN_SUCCESS);
        }
        assertThat(f.ipc.queuedBytes()).as("a dead port's messages leave the budget").isZero();
    }

    /**
     * Notifications a task can make without end (here a no-senders request on a port without
     * senders, which fires at once) are charged to the task holding their port's receive right and
     * never dropped (each is the one message of a send-once right): the bound is on making
     * send-once rights, which beyond the task's share is KERN_RESOURCE_SHORTAGE, nothing made;
     * receiving makes room again. A port-destroyed request refused so leaves the port to die.
     */
    @Test
    void sendOnceRightsAreNotMadeBeyondTheBudgetAndNotificationsAreNotDropped() {
        f.ipc.limitQueuedBytes(4096); // a task's share: 1,024 bytes, 16 notifications of 64
        int p = f.allocate(A);
        int made = 0;
        for (int i = 0; i < 100; i++) {
            KernReturn r = f.ipc.machPortRequestNotification(A, p, Mach.MACH_NOTIFY_NO_SENDERS, 0, p,
                    MsgType.MAKE_SEND_ONCE).code();
            if (r == KERN_SUCCESS) {
                made++;
            } else {
                assertThat(r).isEqualTo(KERN_RESOURCE_SHORTAGE);
            }
        }
        assertThat(made).isEqualTo(16);
        assertThat(f.status(A, p).msgcount()).as("every right made said its one message").isEqualTo(16);
        assertThat(f.status(A, p).sorights()).isEqualTo(16);
        assertThat(f.ipc.queuedBytes()).isEqualTo(16 * 64L);
        assertThat(f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, A).code()).isEqualTo(KERN_RESOURCE_SHORTAGE);
        assertThat(f.take(A, p).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(f.ipc.machPortRequestNotification(A, p, Mach.MACH_NOTIFY_NO_SENDERS, 0, p,
                MsgType.MAKE_SEND_ONCE).code()).as("room for one again").isEqualTo(KERN_SUCCESS);
        assertThat(f.status(A, p).msgcount()).isEqualTo(16);

        int q = f.allocate(A);
        int toQ = f.sendRightIn(A, q, B);
        assertThat(f.ipc.machPortRequestNotification(A, q, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, p,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.machPortDestroy(A, q)).isEqualTo(KERN_SUCCESS);
        assertThat(f.type(B, toQ)).as("no backup: the port died").isEqualTo(PortRight.DEAD_NAME.typeBit());
    }

    /**
     * Review F1: notifications queued on a port whose receive right is in transit are charged
     * (to the task that moved the right, then to the task that receives it), so rounds of making send-once
     * rights, moving the receive right away and deallocating them cannot queue without bound:
     * making send-once rights stops at the budget. Before, 2,500 SEND_ONCE notifications were
     * queued in five rounds with nothing charged.
     */
    @Test
    void notificationsOnAPortInTransitAreChargedAndFollowTheRight() {
        f.ipc.limitQueuedBytes(4096); // share 1,024 bytes
        int q = f.allocate(A);
        int p = f.allocate(A);
        int notes = 0;
        for (int round = 0; round < 5; round++) {
            java.util.List<Integer> so = new java.util.ArrayList<>();
            for (int i = 0; i < 500; i++) {
                IpcResult<MsgItem.Port> r = f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, A);
                if (r.code() != KERN_SUCCESS) {
                    assertThat(r.code()).isEqualTo(KERN_RESOURCE_SHORTAGE);
                    break;
                }
                so.add(r.orThrow("so").name());
            }
            if (so.isEmpty()) {
                break; // the share is full of the notifications of the rounds before
            }
            assertThat(f.send(A, MachMessage.to(q, MsgType.MAKE_SEND, 1).withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE)))
                    .code()).isEqualTo(MACH_MSG_SUCCESS);
            long before = f.ipc.queuedBytes();
            for (int s : so) {
                f.ipc.machPortDeallocate(A, s);
            }
            notes += so.size();
            assertThat(f.ipc.queuedBytes()).as("the SEND_ONCE notifications on the port in transit count")
                    .isEqualTo(before + so.size() * (long) MachMessage.HEADER_SIZE);
            p = ((MsgItem.Port) f.take(A, q).body().get(0)).name();
            assertThat(f.ipc.queuedBytes()).isEqualTo(notes * (long) MachMessage.HEADER_SIZE);
        }
        assertThat(f.status(A, p).msgcount()).isEqualTo(notes);
        assertThat(notes).as("making send-once rights stopped at the budget (the first round's 500)").isEqualTo(500);
        assertThat(f.send(A, IpcFixture.to(q, 9)).code()).as("the task's share is full: they count in it")
                .isEqualTo(MACH_SEND_NO_BUFFER);
        for (int i = 0; i < notes; i++) {
            assertThat(f.take(A, p).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        }
        assertThat(f.ipc.queuedBytes()).isZero();
        assertThat(f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, A).code()).isEqualTo(KERN_SUCCESS);
    }

    /**
     * Review R2 (probe 2): notifications on ports whose receive rights are in transit count in the
     * share of the task that moved them, so rounds of making send-once rights, moving the receive
     * right into a message on the task's own port and deallocating them stop at that task's share,
     * and another task keeps the rest of the kernel's budget. Before, they counted against the
     * kernel alone: 5,056 bytes queued (past the 4,096 limit) while A's share showed 256, and B's
     * first send was MACH_SEND_NO_BUFFER.
     */
    @Test
    void notificationsOnPortsInTransitCountInTheMoversShareSoAnotherTaskKeepsItsRoom() {
        f.ipc.limitQueuedBytes(4096); // share 1,024 bytes
        int q = f.allocate(A);
        for (int round = 0; round < 200; round++) {
            int p = f.allocate(A);
            java.util.List<Integer> so = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) {
                IpcResult<MsgItem.Port> r = f.ipc.machPortExtractRight(A, p, MsgType.MAKE_SEND_ONCE, A);
                if (r.code() != KERN_SUCCESS) {
                    assertThat(r.code()).isEqualTo(KERN_RESOURCE_SHORTAGE);
                    break;
                }
                so.add(r.orThrow("so").name());
            }
            KernReturn moved = f.send(A, MachMessage.to(q, MsgType.MAKE_SEND, 1)
                    .withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE))).code();
            for (int s : so) {
                f.ipc.machPortDeallocate(A, s);
            }
            if (moved != MACH_MSG_SUCCESS) {
                assertThat(moved).isEqualTo(MACH_SEND_NO_BUFFER);
                break;
            }
        }
        assertThat(f.ipc.queuedBytes()).as("A's rounds stay near its share, not the kernel's budget")
                .isLessThanOrEqualTo(4096 / IpcCore.TASK_SHARES + 50L * Notifications.MAX_COST);
        int b = f.allocate(B);
        assertThat(f.send(B, MachMessage.to(b, MsgType.MAKE_SEND, 7)).code()).as("B has room: A filled only its own share")
                .isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortExtractRight(B, b, MsgType.MAKE_SEND_ONCE, B).code()).isEqualTo(KERN_SUCCESS);
    }

    /**
     * Review R4: mach_port_insert_right of MAKE_SEND_ONCE with no room in the task's share for the
     * notification the right may end as is KERN_RESOURCE_SHORTAGE, and nothing is made.
     */
    @Test
    void insertRightOfASendOnceRightBeyondTheShareIsResourceShortage() {
        f.ipc.limitQueuedBytes(4096); // share 1,024 bytes
        int p = f.allocate(A);
        fillShare:
        for (int port = 0; port < 10; port++) {
            int q = f.allocate(A);
            assertThat(f.ipc.machPortSetQlimit(A, q, Mach.MACH_PORT_QLIMIT_MAX)).isEqualTo(KERN_SUCCESS);
            for (int i = 0; i < Mach.MACH_PORT_QLIMIT_MAX; i++) {
                KernReturn r = f.send(A, MachMessage.to(q, MsgType.MAKE_SEND, i)).code();
                if (r != MACH_MSG_SUCCESS) {
                    assertThat(r).isEqualTo(MACH_SEND_NO_BUFFER);
                    break fillShare;
                }
            }
        }
        assertThat(f.ipc.machPortInsertRight(A, 0x777, A, p, MsgType.MAKE_SEND_ONCE)).isEqualTo(KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.machPortType(A, 0x777).code()).as("nothing made").isNotEqualTo(KERN_SUCCESS);
    }

    /**
     * Review F2: a blocked sender's message counts in the budget from copyin (qlimit 0: every send
     * blocks), so a task's threads cannot hold messages outside it, a send beyond it is
     * MACH_SEND_NO_BUFFER as a queued one would be, and letting the blocked messages in (qlimit
     * raised) passes no bound. Before, 200 blocked sends held 114,400 bytes with nothing charged,
     * and raising qlimit to 16 charged 9,152 bytes against a budget of 4,096.
     */
    @Test
    void aBlockedSendersMessageCountsInTheBudget() {
        f.ipc.limitQueuedBytes(4096); // share 1,024
        int p = f.allocate(B);
        int toP = f.sendRightIn(B, p, A);
        assertThat(f.ipc.machPortSetQlimit(B, p, 0)).isEqualTo(KERN_SUCCESS);
        long each = MsgSend.cost(IpcFixture.to(toP, 0).withBody(new MsgItem.Inline(new byte[512])));
        int blocked = 0;
        for (int i = 0; i < 200; i++) {
            IpcFixture.Call c = f.msg(A, 1000 + i, IpcFixture.to(toP, i).withBody(new MsgItem.Inline(new byte[512])),
                    Mach.MACH_SEND_MSG, 0, 0, 0);
            if (c.done()) {
                assertThat(c.code()).isEqualTo(MACH_SEND_NO_BUFFER);
            } else {
                blocked++;
            }
        }
        assertThat(blocked).as("as many as the share holds").isEqualTo((int) (1024 / each)).isPositive();
        assertThat(f.ipc.queuedBytes()).isEqualTo(blocked * each);
        assertThat(f.ipc.machPortSetQlimit(B, p, 16)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(B, p).msgcount()).isEqualTo(blocked);
        assertThat(f.ipc.queuedBytes()).as("let in: no more than before").isEqualTo(blocked * each);
    }

    /** Review F2: a blocked sender's bytes go back when it times out, is interrupted, its thread ends, or the port dies. */
    @Test
    void aBlockedSendersBytesGoBackOnEveryWayOut() {
        int p = f.allocate(B);
        int toP = f.sendRightIn(B, p, A);
        assertThat(f.ipc.machPortSetQlimit(B, p, 0)).isEqualTo(KERN_SUCCESS);
        MachMessage m = IpcFixture.to(toP, 1).withBody(new MsgItem.Inline(new byte[100]));
        long each = MsgSend.cost(m);

        IpcFixture.Call ended = f.msg(A, 2000, m, Mach.MACH_SEND_MSG, 0, 0, 0);
        assertThat(f.ipc.queuedBytes()).isEqualTo(each);
        f.ipc.threadEnded(2000);
        assertThat(f.ipc.queuedBytes()).as("thread ended").isZero();
        assertThat(ended.done()).isFalse();

        f.msg(A, 2001, m, Mach.MACH_SEND_MSG, 0, 0, 0);
        assertThat(f.ipc.queuedBytes()).isEqualTo(each);
        assertThat(f.ipc.interrupt(2001)).isEqualTo(MACH_SEND_INTERRUPTED);
        assertThat(f.ipc.queuedBytes()).as("interrupted").isZero();

        IpcFixture.Call timed = f.sendTimeout(A, m, 10);
        assertThat(f.ipc.queuedBytes()).isEqualTo(each);
        f.advanceMs(10);
        assertThat(timed.code()).isEqualTo(MACH_SEND_TIMED_OUT);
        assertThat(f.ipc.queuedBytes()).as("timed out").isZero();

        IpcFixture.Call died = f.msg(A, 2003, m, Mach.MACH_SEND_MSG, 0, 0, 0);
        assertThat(f.ipc.queuedBytes()).isEqualTo(each);
        assertThat(f.ipc.machPortDestroy(B, p)).isEqualTo(KERN_SUCCESS);
        assertThat(died.code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.ipc.queuedBytes()).as("port died").isZero();
    }
}
