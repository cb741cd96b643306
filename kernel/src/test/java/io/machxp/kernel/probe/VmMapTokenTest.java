package io.machxp.kernel.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * VmMap's create_token (task.proto): a retry answers the mapping the token made and maps nothing;
 * a retry while the first VmMap with the token still waits for its object joins it instead of
 * mapping a second time (closing-s60: a token reused while its first create was in flight made
 * twice); an abandon undoes what the token made, stops what it is making, and refuses it after.
 * The pager holds memory_object_init: the first call is in flight for as long as the test says.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmMapTokenTest extends VmMapProbe {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private VmMapRequest abandon(long token) {
        return VmMapRequest.newBuilder().setTask(handle).setAbandonedCreateToken(token).build();
    }

    private static Status.Code code(TestServerCall<?> call) {
        return Status.fromThrowable(call.errors().get(0)).getCode();
    }

    @Test
    void aRetryWhileTheFirstVmMapWithItsTokenWaitsJoinsItAndMapsOnce() {
        pager.answerInits = false;
        TestServerCall<VmMapReply> first = send(map("slow", 42));
        coreCaughtUp();
        TestServerCall<VmMapReply> retry = send(map("slow", 42)); // the client lost patience and asks again
        coreCaughtUp();
        assertThat(mapsUnderWay()).as("one vm_map under way, not two").isEqualTo(1);
        assertThat(retry.answered()).as("the retry waits for the first").isFalse();

        pager.readyHeld();
        await().atMost(WAIT).until(() -> first.answers().size() == 1 && retry.answers().size() == 1);
        assertThat(retry.answers().get(0)).isEqualTo(first.answers().get(0));
        assertThat(mappingsOf("slow")).isEqualTo(1);
        assertThat(mappings()).isEqualTo(2);

        TestServerCall<VmMapReply> later = send(map("slow", 42)); // after: answered at once, nothing mapped
        await().atMost(WAIT).until(() -> later.answers().size() == 1);
        assertThat(later.answers().get(0)).isEqualTo(first.answers().get(0));
        assertThat(mappings()).isEqualTo(2);
    }

    @Test
    void aRetryJoinedToAVmMapWhoseCallerGaveUpMapsAnew() {
        pager.answerInits = false;
        TestServerCall<VmMapReply> first = send(map("slow", 5));
        coreCaughtUp();
        TestServerCall<VmMapReply> retry = send(map("slow", 5));
        coreCaughtUp();
        first.cancel(); // the first's caller gave up: it stops, and the joined retry maps for itself
        await().atMost(WAIT).until(() -> !first.errors().isEmpty());
        assertThat(code(first)).isEqualTo(Status.Code.CANCELLED);
        await().atMost(WAIT).until(() -> mapsUnderWay() == 1); // the retry's own
        assertThat(retry.answered()).isFalse();

        pager.readyHeld();
        await().atMost(WAIT).until(() -> retry.answers().size() == 1);
        assertThat(mappingsOf("slow")).isEqualTo(1);
        assertThat(mappings()).isEqualTo(2);
    }

    @Test
    void anAbandonStopsTheVmMapItsTokenIsMakingAndRefusesTheTokenAfter() {
        pager.answerInits = false;
        int before = counted();
        TestServerCall<VmMapReply> first = send(map("slow", 7));
        coreCaughtUp();
        TestServerCall<VmMapReply> retry = send(map("slow", 7));
        TestServerCall<VmMapReply> abandoned = send(abandon(7));
        await().atMost(WAIT).until(() -> abandoned.answers().size() == 1);
        await().atMost(WAIT).until(() -> !first.errors().isEmpty() && !retry.errors().isEmpty());
        assertThat(code(first)).isEqualTo(Status.Code.CANCELLED);
        assertThat(code(retry)).as("the joined retry hears the abandon too").isEqualTo(Status.Code.CANCELLED);
        assertThat(mapsUnderWay()).isZero();
        assertThat(counted()).isEqualTo(before);

        pager.readyHeld();
        TestServerCall<VmMapReply> again = send(map("slow", 7));
        await().atMost(WAIT).until(() -> again.answered());
        assertThat(code(again)).isEqualTo(Status.Code.CANCELLED);
        assertThat(mappingsOf("slow")).isZero();
        assertThat(mappings()).isEqualTo(1);
    }

    @Test
    void anAbandonUndoesTheMappingItsTokenMadeWhoseAnswerWasLost() {
        int before = counted();
        TestServerCall<VmMapReply> made = send(map("obj", 9)); // answered; say the answer never reached the client
        await().atMost(WAIT).until(() -> made.answers().size() == 1);
        assertThat(mappings()).isEqualTo(2);

        TestServerCall<VmMapReply> abandoned = send(abandon(9));
        await().atMost(WAIT).until(() -> abandoned.answers().size() == 1);
        assertThat(mappings()).isEqualTo(1);
        assertThat(mappingsOf("obj")).isEqualTo(1);
        assertThat(counted()).isEqualTo(before);
        assertThat(kernel.core().task(task.id()).mappingAt(made.answers().get(0).getAddress())).isNull();

        TestServerCall<VmMapReply> repeat = send(abandon(9)); // safe to repeat
        await().atMost(WAIT).until(() -> repeat.answers().size() == 1);
        TestServerCall<VmMapReply> again = send(map("obj", 9));
        await().atMost(WAIT).until(() -> again.answered());
        assertThat(code(again)).isEqualTo(Status.Code.CANCELLED);
        assertThat(mappings()).isEqualTo(1);
    }

    @Test
    void aMappingARetryWasAnsweredStaysWhenTheFirstCallerGivesUpLate() {
        TestServerCall<VmMapReply> first = send(map("obj", 11));
        await().atMost(WAIT).until(() -> first.answers().size() == 1);
        TestServerCall<VmMapReply> retry = send(map("obj", 11));
        await().atMost(WAIT).until(() -> retry.answers().size() == 1);
        assertThat(retry.answers().get(0)).isEqualTo(first.answers().get(0));

        first.cancel(); // the first caller's cancel lands late: the retry's caller holds the mapping now
        coreCaughtUp();
        coreCaughtUp();
        assertThat(mappings()).as("obj and the mapping the retry was answered").isEqualTo(2);
        assertThat(kernel.core().task(task.id()).mappingAt(retry.answers().get(0).getAddress())).isNotNull();
    }
}
