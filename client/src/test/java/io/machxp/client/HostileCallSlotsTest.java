package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Code;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.task.VmLockFutexRequest;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task process that writes its call slot raw (docs/shared-memory.md, "What a task process can
 * do to the files"): a length beyond the slot, an unknown method, bytes that are no request, a
 * phase the layout does not have, a doorbell with nothing posted. Each bad call is answered with
 * an error in that slot, nothing else is; the kernel's core goes on serving every other call.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileCallSlotsTest {
    private static final Duration WITHIN = Duration.ofSeconds(10);
    private final ClusterFixture c;
    private final HostileShm hostile;
    private final ByteBuffer calls;
    private final int slot;
    private final CallBell bell;

    HostileCallSlotsTest() throws Exception {
        c = new ClusterFixture(1);
        TaskClient own = c.clients.get(0).taskCreate("hostile"); // its slot is used by nothing else here
        hostile = new HostileShm(c.clients.get(0), own);
        calls = hostile.calls;
        slot = CallLayout.slot(hostile.attach.getTaskSlot() - 1);
        bell = CallBell.of(CallLayout.bellFile(hostile.attach.getCallFile()));
    }

    @AfterEach
    void close() {
        c.close();
    }

    /** Posts a call as the layout says, with whatever method, length and bytes; its call number. */
    private int post(int method, int length, byte[] bytes) {
        int call = CallLayout.call((int) INT.getVolatile(calls, slot)) + 1;
        INT.set(calls, slot + CallLayout.METHOD, method);
        INT.set(calls, slot + CallLayout.REQUEST_LENGTH, length);
        calls.put(slot + CallLayout.PAYLOAD_AT, bytes);
        INT.setVolatile(calls, slot, CallLayout.state(call, CallLayout.POSTED));
        INT.getAndAdd(calls, CallLayout.DOORBELL, 1);
        bell.ring();
        return call;
    }

    /** The error status the kernel answered call {@code call} with. */
    private com.google.rpc.Status error(int call) throws Exception {
        await().atMost(WITHIN).until(() -> (int) INT.getVolatile(calls, slot) == CallLayout.state(call, CallLayout.ANSWERED));
        assertThat((int) INT.get(calls, slot + CallLayout.ANSWER_KIND)).isEqualTo(CallLayout.STATUS);
        byte[] answer = new byte[(int) INT.get(calls, slot + CallLayout.ANSWER_LENGTH)];
        calls.get(slot + CallLayout.PAYLOAD_AT, answer);
        return com.google.rpc.Status.parseFrom(answer);
    }

    @Test
    void aBadCallIsAnErrorInItsOwnSlot() throws Exception {
        byte[] lock = VmLockFutexRequest.newBuilder().setTask(c.tasks.get(0).id()).setAddress(c.base[0] + 64).build()
                .toByteArray();
        com.google.rpc.Status beyond = error(post(CallLayout.VM_LOCK_FUTEX, 5_000, lock));
        assertThat(beyond.getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
        assertThat(beyond.getMessage()).contains("out of the slot");
        assertThat(error(post(CallLayout.VM_LOCK_FUTEX, -1, lock)).getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
        com.google.rpc.Status method = error(post(99, lock.length, lock));
        assertThat(method.getMessage()).contains("takes no call 99");
        byte[] junk = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f};
        assertThat(error(post(CallLayout.VM_READ, junk.length, junk)).getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);

        ThreadClient t = c.thread(0);
        long before = c.clients.get(0).sharedCallsMade();
        t.lockFutex(c.base[0] + 64, WITHIN); // a futex new to the kernel: a call through the file
        t.unlockFutex(c.base[0] + 64);
        assertThat(c.clients.get(0).sharedCallsMade()).as("others' calls still go through the file").isGreaterThan(before);
    }

    @Test
    void aPhaseTheLayoutDoesNotHaveAndAnEmptyRingAreIgnored() {
        INT.setVolatile(calls, slot, CallLayout.state(7, CallLayout.PHASE)); // phase 7: none
        INT.getAndAdd(calls, CallLayout.DOORBELL, 1);
        bell.ring();
        INT.getAndAdd(calls, CallLayout.DOORBELL, 1); // and a ring with nothing posted at all
        bell.ring();

        ThreadClient t = c.thread(0);
        t.lockFutex(c.base[0] + 64, WITHIN);
        t.unlockFutex(c.base[0] + 64);
        assertThat((int) INT.getVolatile(calls, slot)).as("left as the task wrote it").isEqualTo(
                CallLayout.state(7, CallLayout.PHASE));
    }
}
