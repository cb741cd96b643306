package io.machxp.pager.core;

import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_ERROR;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_UNAVAILABLE;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DESTROY;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_READY;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The bad input catalog: a malformed or out-of-order kernel message is refused (counted, logged)
 * or answered as the protocol says and changes nothing; a breach of the protocol's order or form
 * ends the stream at once.
 */
class PagerCoreBadInputTest extends PagerCoreKernels {
    /**
     * One malformed or out-of-order kernel message: what it is, how many refusals it counts (0 when
     * the protocol has an answer for it), what the pager sends for it, as "A:ROUTINE", and how to
     * send it. Kernel A holds the futex at 0 and writes page 0; B is connected and has "obj" as 7.
     */
    record BadInput(String what, int refused, List<String> answer, Consumer<PagerCoreBadInputTest> send) {
        @Override
        public String toString() {
            return what;
        }
    }

    static List<BadInput> badInputs() {
        return List.of(
            new BadInput("data_request for an object id never initialized: data_error", 0,
                    List.of("B:MEMORY_OBJECT_DATA_ERROR"), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                            .setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder().setObjectId(99)
                                    .setOffset(0).setLength(PAGE)).build())),
            new BadInput("data_unlock for an object id never initialized: data_error", 0,
                    List.of("B:MEMORY_OBJECT_DATA_ERROR"), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                            .setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(99)
                                    .setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_WRITE)).build())),
            new BadInput("init of an object the pager does not serve: destroyed", 0, List.of("B:MEMORY_OBJECT_DESTROY"),
                    t -> t.pager.onXp(2, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                            .setObjectId(8).setName("missing").setPageSize(PAGE)).build())),
            // answered since outside review 3 (O3-4; xp-spec 5.1), no longer dropped: the same object is ready again
            new BadInput("init of an object id already in use, for the same object: ready again", 0,
                    List.of("B:MEMORY_OBJECT_READY"), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7).setName("obj")
                            .setPageSize(PAGE)).build())),
            new BadInput("terminate of an object id never initialized", 1, List.of(), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder().setObjectId(99)).build())),
            new BadInput("lock_futex for an object id never initialized", 1, List.of(), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(99)).build())),
            new BadInput("lock_futex at an unaligned offset", 1, List.of(), t -> t.lock(2, 2)),
            new BadInput("lock_futex outside the object", 1, List.of(), t -> t.lock(2, 4L * PAGE)),
            new BadInput("lock_futex for a futex it holds", 1, List.of(), t -> t.lock(1, 0)),
            new BadInput("a second lock_futex without update", 1, List.of(), t -> {
                t.lock(2, 0);
                t.said(1); // A: relinquish
                t.lock(2, 0);
            }),
            new BadInput("a try from a kernel that already waits", 1, List.of(), t -> {
                t.lock(2, 0);
                t.said(1);
                t.trylock(2, 0);
            }),
            new BadInput("an update without a lock_futex", 1, List.of(), t -> t.update(2, 0, 5)),
            new BadInput("futex_released of a futex it does not hold", 1, List.of(), t -> t.released(2, 0)),
            new BadInput("futex_released of a futex nobody ever asked for", 1, List.of(), t -> t.released(2, 128)),
            new BadInput("a futex_probe for an object id never initialized", 1, List.of(), t -> t.pager.onXp(2,
                    KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                            .setObjectId(99).setOffset(0).setInitiator(0x200001)).build())),
            new BadInput("lock_completed nobody asked for", 1, List.of(), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                    .setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder().setObjectId(7).setOffset(0)
                            .setLength(PAGE)).build())),
            new BadInput("data_return of a page it does not hold", 1, List.of(), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder().setObjectId(7)
                            .setOffset(0).setDirty(true).setData(ByteString.copyFrom(new byte[PAGE]))).build())),
            new BadInput("data_return of less than a page", 1, List.of(), t -> t.pager.onXp(1, KernelToPager.newBuilder()
                    .setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder().setObjectId(7).setOffset(0)
                            .setDirty(true).setData(ByteString.copyFrom(new byte[100])).setKernelCopy(true)).build())),
            new BadInput("data_unlock of a range that is not one page: data_error", 0,
                    List.of("B:MEMORY_OBJECT_DATA_ERROR"), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(7)
                            .setOffset(PAGE).setLength(2L * PAGE)).build())),
            new BadInput("data_unlock for a page it does not hold: supplied writable", 0,
                    List.of("B:MEMORY_OBJECT_DATA_UNAVAILABLE"), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                            .setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(7)
                                    .setOffset(3L * PAGE).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_WRITE)).build())),
            new BadInput("data_request outside the object: data_error", 0, List.of("B:MEMORY_OBJECT_DATA_ERROR"),
                    t -> t.pager.onXp(2, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                            .newBuilder().setObjectId(7).setOffset(4L * PAGE).setLength(PAGE)).build())));
    }

    /**
     * Each bad input is refused - counted, logged at WARN - or answered as the protocol says, the
     * pager sends nothing else, A keeps its futex and its page, and a kernel that behaves still gets
     * a futex and a page.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void aBadInputIsRefusedAndChangesNothing(BadInput bad) {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ_WRITE)).build());
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_DATA_UNAVAILABLE);
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger(PagerCore.class);
        warnings.start();
        log.addAppender(warnings);
        try {
            bad.send().accept(this);
        } finally {
            log.detachAppender(warnings);
        }

        assertThat(stats.refused()).isEqualTo(bad.refused());
        assertThat(warnings.list).filteredOn(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("refused"))
                .hasSize(bad.refused());
        List<String> answer = new ArrayList<>();
        inbox.forEach((session, got) -> got.forEach(m -> answer.add((session == a ? "A:" : session == b ? "B:" : session + ":")
                + m.getRoutineCase())));
        assertThat(answer).containsExactlyElementsOf(bad.answer());
        inbox.clear();
        assertThat(ended).isEmpty();
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("A");

        lock(b, 64);
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(2L * PAGE).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ)).build());
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_DATA_UNAVAILABLE);
        assertThat(stats.refused()).isEqualTo(bad.refused());
    }

    /** A breach of the protocol's order or form: what it is, how it ends the stream, and how to send it. */
    record Breach(String what, long session, XpProtocolError error, Consumer<PagerCoreBadInputTest> send) {
        @Override
        public String toString() {
            return what;
        }
    }

    static List<Breach> breaches() {
        return List.of(
            new Breach("a message before kernel_hello", 9, XpProtocolError.EPROTO, t -> {
                t.pager.sessionOpened(9);
                t.lock(9, 64);
            }),
            new Breach("a second kernel_hello", 2, XpProtocolError.EPROTO, t -> t.pager.onXp(2,
                    KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("B2")
                            .setProtocolVersion(1)).build())),
            new Breach("a message with no routine", 2, XpProtocolError.EBADMSG,
                    t -> t.pager.onXp(2, KernelToPager.getDefaultInstance())),
            new Breach("a routine this pager does not know", 2, XpProtocolError.EBADMSG,
                    t -> t.pager.onXp(2, KernelToPager.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet
                            .newBuilder().addField(99, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                                    .addVarint(1).build()).build()).build())),
            new Breach("kernel_hello without a protocol version", 9, XpProtocolError.EPROTONOSUPPORT,
                    t -> t.hello(9, 0)),
            new Breach("kernel_hello of protocol version 3", 9, XpProtocolError.EPROTONOSUPPORT, t -> t.hello(9, 3)),
            new Breach("kernel_hello of protocol version 99", 9, XpProtocolError.EPROTONOSUPPORT, t -> t.hello(9, 99)));
    }

    private void hello(long session, int version) {
        pager.sessionOpened(session);
        pager.onXp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("N")
                .setProtocolVersion(version)).build());
    }

    /**
     * A breach of the protocol's order or form ends the stream at once, with a status that says
     * which (and, for a version, which versions the pager speaks); nothing is sent on it, A keeps
     * its futex, and a kernel that behaves is still served.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("breaches")
    void aProtocolBreachEndsTheStreamAtOnce(Breach breach) {
        long a = kernel(1, "A");
        kernel(2, "B");
        kernel(3, "C");
        lock(a, 0);
        routines(a);
        breach.send().accept(this);
        assertThat(protocolEnded).containsOnlyKeys(breach.session());
        assertThat(protocolEnded.get(breach.session())).startsWith(breach.error().name());
        if (breach.error() == XpProtocolError.EPROTONOSUPPORT) {
            assertThat(protocolEnded.get(breach.session())).contains("speaks versions 1 and 2");
        }
        assertThat(routines(breach.session())).isEmpty();
        assertThat(pager.kernels()).doesNotContain("N", "B2");
        assertThat(pager.kernels().contains("B")).isEqualTo(breach.session() != 2);
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        lock(3, 64);
        assertThat(routines(3)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
    }
}
