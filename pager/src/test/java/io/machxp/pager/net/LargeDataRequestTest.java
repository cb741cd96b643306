package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One data_request asks for at most 1 MiB of pages and one page more (xp-spec 6.2): the pager's
 * core answers a request page by page on the thread every kernel shares, and before, a request of
 * 20 bytes naming a whole large object held every other kernel's messages for as long as its
 * pages took (4.7 s for 1 GiB here, 262,144 answers). A larger request is answered with one
 * data_error naming the bound; the largest one a vm_read of 1 MiB makes is answered page by page.
 */
class LargeDataRequestTest {
    private static final int PAGE = 4096;
    private static final long BIG = 64L << 20;

    @Test
    void aRequestOfMoreThanAMebibyteOfPagesIsOneDataErrorAndOneOfAVmReadIsAnswered() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", BIG, "obj", 16L * PAGE))
                .withLease(Duration.ZERO));
                ProbeKernel k = new ProbeKernel(pager.target())) {
            k.send(ProbeKernel.hello("k").build());
            k.await(PagerToKernel::hasPagerWelcome);
            k.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                    .setName("big").setPageSize(PAGE)).build());
            k.await(PagerToKernel::hasMemoryObjectReady);

            k.send(request(0, BIG));
            List<PagerToKernel> whole = k.barrier();
            assertThat(whole).as("the answer to a request of the whole object").hasSize(1);
            var error = whole.get(0).getMemoryObjectDataError();
            assertThat(error.getOffset()).isZero();
            assertThat(error.getLength()).isEqualTo(BIG);
            assertThat(error.getReason()).contains("16384 pages", "at most 257 pages", "in parts");

            long vmRead = (1 << 20) + PAGE; // an unaligned vm_read of 1 MiB touches 257 pages
            k.send(request(PAGE, vmRead));
            List<PagerToKernel> answers = k.barrier();
            assertThat(answers).noneMatch(PagerToKernel::hasMemoryObjectDataError);
            assertThat(answers.stream().mapToLong(m -> m.getMemoryObjectDataUnavailable().getLength()).sum())
                    .as("bytes answered").isEqualTo(vmRead);
            k.send(request(0, vmRead + PAGE));
            assertThat(k.barrier()).singleElement().matches(PagerToKernel::hasMemoryObjectDataError);

            try (ProbeKernel other = ProbeKernel.welcomed(pager.target(), "other")) {
                other.send(ProbeKernel.lock(0));
                other.await(PagerToKernel::hasMemoryObjectFutexGranted);
            }
        }
    }

    private static KernelToPager request(long offset, long length) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(offset).setLength(length).setDesiredAccess(VmProt.VM_PROT_READ)).build();
    }
}
