import * as echarts from 'echarts';
import { slotLocalIso } from '../../util/localtime.js';
import type { LedgerReport } from './report.js';

/**
 * The report's charts as SVG, rendered in the process with ECharts' server-side renderer (no
 * browser, no DOM): the same library as the dashboard, so the figures look alike.
 */

function renderSvg(option: echarts.EChartsOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const kWh = (wh: number) => Math.round(wh) / 1000;

/** Per-slot community production, consumption, internal exchange and grid import/export (kWh), local time. */
export function energyChartSvg(report: LedgerReport, width = 1200, height = 500): string {
  const labels = report.slots.map((s) => slotLocalIso(report.timezone, s.slot).slice(0, 16).replace('T', ' '));
  const series = (name: string, key: keyof LedgerReport['slots'][number]) => ({ name, type: 'line' as const, showSymbol: false, data: report.slots.map((s) => kWh(s[key])) });
  return renderSvg(
    {
      title: { text: `${report.name}: energy per 15 minutes, ${report.fromDay} – ${report.toDay} (${report.timezone})`, textStyle: { fontSize: 14 } },
      legend: { top: 24 },
      grid: { top: 60, left: 60, right: 20, bottom: 60 },
      xAxis: { type: 'category', data: labels, axisLabel: { rotate: 0 } },
      yAxis: { type: 'value', name: 'kWh' },
      series: [series('production (metered export)', 'producedWh'), series('consumption (metered import)', 'consumedWh'), series('shared in the community', 'internalWh'), series('grid import', 'gridImportWh'), series('grid export', 'gridExportWh')],
    },
    width,
    height,
  );
}

/** Per member: the bill in the community against the grid-only baseline (€). */
export function billsChartSvg(report: LedgerReport, width = 1200, height = 500): string {
  const names = report.kpis.members.map((m) => {
    const meters = report.members.find((x) => x.address === m.member)?.meters ?? [];
    return meters[0] ?? `${m.member.slice(0, 10)}…`;
  });
  const eur = (micro: number) => micro / 1_000_000;
  return renderSvg(
    {
      title: { text: `${report.name}: bills against the grid-only baseline (€)`, textStyle: { fontSize: 14 } },
      legend: { top: 24 },
      grid: { top: 60, left: 60, right: 20, bottom: 90 },
      xAxis: { type: 'category', data: names, axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', name: '€' },
      series: [
        { name: 'grid-only baseline', type: 'bar', data: report.kpis.members.map((m) => eur(m.bill.baselineMicroEur)) },
        { name: 'bill in the community', type: 'bar', data: report.kpis.members.map((m) => eur(m.bill.totalMicroEur)) },
      ],
    },
    width,
    height,
  );
}
