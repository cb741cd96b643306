package io.machxp.kernel.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.VmMapReply;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A VmMap its caller gave up on (deadline, cancel, disconnect) keeps nothing (review rv59 LOW-1:
 * 8 of 10 VmMaps given up on behind a slow link left a mapping each, counted to the task's 4,096,
 * the object and the peer's share). The pager holds memory_object_init where a vm_map must wait
 * for its object: the call is in flight for as long as the test says.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GivenUpVmMapTest extends VmMapProbe {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void aVmMapCancelledOverGrpcWhileItWaitsForItsObjectFailsAndGivesItsPlaceBack() throws Exception {
        pager.answerInits = false;
        int before = counted();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", kernel.port()).usePlaintext().build();
        try {
            Context.CancellableContext context = Context.current().withCancellation();
            Future<VmMapReply> call = context.call(() -> MachTaskGrpc.newFutureStub(channel).vmMap(map("slow", 0)));
            await().atMost(WAIT).until(() -> pager.heldInits() == 1 && mapsUnderWay() == 1);
            assertThat(counted()).as("its place is held while it waits").isEqualTo(before + 1);

            context.cancel(null); // the client gives up
            ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, call::get);
            assertThat(Status.fromThrowable(failure.getCause()).getCode()).isEqualTo(Status.Code.CANCELLED);
            await().atMost(WAIT).until(() -> mapsUnderWay() == 0);
            assertThat(counted()).as("its place given back").isEqualTo(before);

            pager.readyHeld(); // the object's answer comes after: nothing waits for it any more
            VmMapReply next = MachTaskGrpc.newBlockingStub(channel).vmMap(map("slow", 0));
            assertThat(mappings()).as("obj and the later map of slow: the given-up one mapped nothing").isEqualTo(2);
            assertThat(mappingsOf("slow")).isEqualTo(1);
            assertThat(next.getAddress()).isPositive();
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aMappingMadeForACallerAlreadyGoneIsUndoneGivingBackEveryCount() {
        pager.answerInits = false;
        int before = counted();
        TestServerCall<VmMapReply> call = send(map("slow", 0));
        coreCaughtUp();
        assertThat(mapsUnderWay()).isEqualTo(1);
        call.cancelledUnseen(); // the caller is gone; its cancel handler has not run yet

        pager.readyHeld(); // the mapping is made for a caller already gone
        await().atMost(WAIT).until(() -> mappingsOf("slow") == 0 && mapsUnderWay() == 0 && counted() == before);
        assertThat(mappings()).as("obj only").isEqualTo(1);
        assertThat(call.answers()).isEmpty();
        call.cancel(); // its handler runs late: nothing left to stop
        coreCaughtUp();
        assertThat(counted()).isEqualTo(before);
        assertThat(mappingsOf("obj")).as("the task's other mapping stays").isEqualTo(1);
    }

    @Test
    void aMappingWhoseCallIsCancelledAfterItsAnswerWasSentIsUndone() {
        int before = counted();
        TestServerCall<VmMapReply> call = send(map("obj", 0)); // ready: mapped at once
        await().atMost(WAIT).until(() -> call.answers().size() == 1);
        assertThat(mappings()).isEqualTo(2);
        assertThat(mappingsOf("obj")).isEqualTo(2);

        call.cancel(); // the answer was lost: the client's call ends non-OK, it never learns the address
        await().atMost(WAIT).until(() -> mappings() == 1);
        assertThat(mappingsOf("obj")).isEqualTo(1);
        assertThat(counted()).isEqualTo(before);
        assertThat(kernel.core().task(task.id()).mappingAt(base)).as("the task's first mapping stays").isNotNull();
    }
}
