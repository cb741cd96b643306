package io.machxp.chaos;

import io.machxp.chaos.ipc.IpcChaosRun;
import io.machxp.kernel.core.KernelPlants;
import io.machxp.kernel.ipc.IpcPlants;
import io.machxp.pager.core.PagerPlants;
import java.util.List;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Measures the planted-bug tables of docs/chaos.md (a tool, not a test): for each bug of
 * {@link PlantedBugsTest} and {@code IpcPlantedBugsTest}, the first seed on which the checker
 * finds it, with the CLI's default options and with the tests' small runs. Run from the client
 * module after {@code mvn -o -q -pl client -am test-compile}, e.g. with the test class path
 * {@code mvn dependency:build-classpath -Dmdep.includeScope=test} prints. Argument: the last seed
 * to try (default 100).
 */
public final class PlantedBugSeeds {
    /** What {@code machxp chaos} runs unless told otherwise. */
    private static final io.machxp.variant.Variant CLI_VARIANT = io.machxp.variant.Variants.of(io.machxp.variant.Variants.DEFAULT);

    private PlantedBugSeeds() {}

    public static void main(String[] args) {
        int last = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        System.out.printf("%-80s %8s %8s%n", "planted bug", "defaults", "small");
        for (Arguments a : PlantedBugsTest.plants().toList()) {
            Object[] p = a.get();
            KernelPlants kernel = (KernelPlants) p[2];
            PagerPlants pager = (PagerPlants) p[3];
            System.out.printf("%-80s %8s %8s%n", p[0],
                    first(last, s -> new ChaosRun(s, ChaosOptions.DEFAULT).withVariant(CLI_VARIANT).withPlants(kernel, pager)
                            .run().passed()),
                    first(last, s -> new ChaosRun(s, PlantedBugsTest.SMALL).withPlants(kernel, pager).run().passed()));
        }
        for (Object[] p : ipcPlants()) {
            IpcPlants plant = (IpcPlants) p[1];
            System.out.printf("%-80s %8s %8s%n", "ipc: " + p[0],
                    first(last, s -> new IpcChaosRun(s, ChaosOptions.DEFAULT).withPlants(plant).run().passed()),
                    first(last, s -> new IpcChaosRun(s, io.machxp.chaos.ipc.IpcChaosRunTest.SMALL)
                            .withPlants(plant).run().passed()));
        }
    }

    private static List<Object[]> ipcPlants() {
        return io.machxp.chaos.ipc.IpcPlantedBugsTest.plants().map(Arguments::get).toList();
    }

    /** The first seed in 1..last whose run fails, or "none". */
    private static String first(int last, java.util.function.LongPredicate passes) {
        for (long s = 1; s <= last; s++) {
            if (!passes.test(s)) {
                return Long.toString(s);
            }
        }
        return "none";
    }
}
