/**
 * Candlesticks and volume (lightweight-charts), with an interval switch. Loaded
 * lazily: the charting library stays out of the first screen's bundle. History
 * comes from the REST candles route; the forming candle from the WebSocket is
 * drawn straight onto the series, outside React's render cycle.
 */
import { CandlestickSeries, ColorType, createChart, HistogramSeries, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef, useState, type ReactElement } from "react";
import { useApp } from "../context.ts";
import type { Candle } from "../types.ts";

const intervals = ["1s", "1m", "5m", "1h", "1d"] as const;
type Interval = (typeof intervals)[number];

// Chart coordinates are display-only; every value shown in text elsewhere stays a decimal string.
const bar = (candle: Candle): { time: UTCTimestamp; open: number; high: number; low: number; close: number } => ({
  time: Math.floor(Date.parse(candle.start) / 1000) as UTCTimestamp,
  open: Number(candle.open),
  high: Number(candle.high),
  low: Number(candle.low),
  close: Number(candle.close),
});
const volume = (candle: Candle): { time: UTCTimestamp; value: number; color: string } => ({
  time: Math.floor(Date.parse(candle.start) / 1000) as UTCTimestamp,
  value: Number(candle.volume),
  color: Number(candle.close) >= Number(candle.open) ? "rgba(38,166,154,0.45)" : "rgba(239,83,80,0.45)",
});

export default function Chart(): ReactElement {
  const { symbol, session, store, feed } = useApp();
  const [interval, setInterval] = useState<Interval>("1m");
  const [error, setError] = useState<string | null>(null);
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const volumes = useRef<ISeriesApi<"Histogram"> | null>(null);

  useEffect(() => {
    if (host.current === null) return;
    const created = createChart(host.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "#12161c" }, textColor: "#aab4c0", attributionLogo: false },
      grid: { vertLines: { color: "#1e252e" }, horzLines: { color: "#1e252e" } },
      timeScale: { timeVisible: true, secondsVisible: true, borderColor: "#2a323d" },
      rightPriceScale: { borderColor: "#2a323d" },
    });
    candles.current = created.addSeries(CandlestickSeries, { upColor: "#26a69a", downColor: "#ef5350", wickUpColor: "#26a69a", wickDownColor: "#ef5350", borderVisible: false });
    volumes.current = created.addSeries(HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" } });
    created.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = created;
    return () => {
      created.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    let cancelled = false;
    const subscription = { channel: "candles", symbol, interval };
    setError(null);
    store.setCandles(symbol, interval, []);
    session
      .get<{ items: Candle[] }>(`/api/v1/markets/${encodeURIComponent(symbol)}/candles?interval=${interval}&limit=300`)
      .then((answer) => {
        if (cancelled) return;
        store.setCandles(symbol, interval, answer.items);
        candles.current?.setData(answer.items.map(bar));
        volumes.current?.setData(answer.items.map(volume));
        chart.current?.timeScale().scrollToRealTime();
      })
      .catch(() => {
        if (!cancelled) setError("Candles could not be loaded.");
      });
    const off = store.onCandle((candle) => {
      const series = store.candles;
      if (series === null || series.symbol !== symbol || series.interval !== interval) return;
      candles.current?.update(bar(candle));
      volumes.current?.update(volume(candle));
    });
    feed.subscribe(subscription);
    return () => {
      cancelled = true;
      off();
      feed.unsubscribe(subscription);
    };
  }, [symbol, interval, session, store, feed]);

  return (
    <section className="panel chart" aria-labelledby="chart-title">
      <div className="panel-head">
        <h2 id="chart-title">
          <span className="symbol">{symbol}</span> chart
        </h2>
        <div role="radiogroup" aria-label="Candle interval" className="intervals">
          {intervals.map((item) => (
            <button key={item} type="button" role="radio" aria-checked={item === interval} className={item === interval ? "active" : undefined} onClick={() => setInterval(item)}>
              {item}
            </button>
          ))}
        </div>
      </div>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div ref={host} className="chart-host" role="img" aria-label={`Candlestick and volume chart of ${symbol}, ${interval} candles`} />
    </section>
  );
}
