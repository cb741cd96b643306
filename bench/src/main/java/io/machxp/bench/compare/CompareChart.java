package io.machxp.bench.compare;

import io.machxp.workbench.WorkbenchResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The chart of machxp compare: three panels (throughput, XP messages per operation, Jain's
 * fairness index) over the swept parameter, one line per variant, in one PNG.
 */
final class CompareChart {
    private static final int WIDTH = 560;
    private static final int HEIGHT = 420;

    private CompareChart() {}

    static void write(Path file, List<WorkbenchResult> results, String workload, String network, long seed,
            String param) throws IOException {
        List<JFreeChart> charts = List.of(
                chart("ops/s (virtual)", results, WorkbenchResult::opsPerSecond, param),
                chart("XP messages per op", results, WorkbenchResult::msgsPerOp, param),
                chart("Jain's index over kernels", results, WorkbenchResult::jain, param));
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(WIDTH * charts.size(), HEIGHT + 30,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = image.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        g.setColor(java.awt.Color.BLACK);
        g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 15));
        g.drawString("machxp compare: " + workload + ", network " + network + ", seed " + seed, 12, 20);
        for (int i = 0; i < charts.size(); i++) {
            charts.get(i).draw(g, new java.awt.geom.Rectangle2D.Double(i * WIDTH, 30, WIDTH, HEIGHT));
        }
        g.dispose();
        javax.imageio.ImageIO.write(image, "png", file.toFile());
    }

    private static JFreeChart chart(String title, List<WorkbenchResult> results, ToDoubleFunction<WorkbenchResult> v,
            String param) {
        Map<String, XYSeries> lines = new LinkedHashMap<>();
        for (WorkbenchResult r : results) {
            lines.computeIfAbsent(r.variant(), XYSeries::new).add(r.param(), v.applyAsDouble(r));
        }
        XYSeriesCollection data = new XYSeriesCollection();
        lines.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart(title, param, title, data, PlotOrientation.VERTICAL, true,
                false, false);
        // tick labels as the tables print numbers, whatever the default locale (a decimal point, no grouping
        // by the locale's rules): the same results give the same PNG
        XYPlot plot = chart.getXYPlot();
        ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
        ((NumberAxis) plot.getRangeAxis()).setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
        return chart;
    }
}
