"use client";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ZERO_ADDRESS } from "@/lib/client/format";

export function EarningsChart({ rows, stable }: { rows: ({ day: string } & Record<string, number | string>)[]; stable?: string }) {
  if (rows.length === 0) return <p className="muted small">No earnings yet.</p>;
  const series = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== "day")))];
  const label = (t: string) => (t === ZERO_ADDRESS ? "ETH" : stable && t.toLowerCase() === stable.toLowerCase() ? "Stablecoin" : t.slice(0, 8));
  return (
    <div style={{ width: "100%", height: 240 }} role="img" aria-label={`Earnings per day over ${rows.length} days`}>
      <ResponsiveContainer>
        <BarChart data={rows}>
          <CartesianGrid strokeDasharray="3 3" stroke="#2c2c40" />
          <XAxis dataKey="day" stroke="#a3a3b8" fontSize={12} />
          <YAxis stroke="#a3a3b8" fontSize={12} />
          <Tooltip cursor={{ fill: "#ffffff12" }} contentStyle={{ background: "#191926", border: "1px solid #3a3a55" }} />
          <Legend />
          {series.map((s, i) => (
            <Bar key={s} dataKey={s} name={label(s)} fill={i === 0 ? "#7c5cff" : "#3ecf8e"} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
