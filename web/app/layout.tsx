import type { Metadata, Viewport } from "next";
import "./globals.css";
import { Providers } from "@/components/Providers";
import { PlayerProvider } from "@/components/Player";
import { Nav, WrongNetwork, WrongOrigin } from "@/components/Nav";
import { publicConfig } from "@/lib/server/config";

export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "StreamVault", template: "%s · StreamVault" },
  description: "Music and video that fans unlock on-chain.",
  icons: { icon: "data:," },
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#0f0f17" };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  const config = publicConfig();
  return (
    <html lang="en">
      <body>
        <Providers config={config}>
          {/* Mounted once for the whole visit: playback goes on across client-side navigation. */}
          <PlayerProvider>
          <Nav />
          <WrongOrigin />
          <WrongNetwork />
          <main id="main" tabIndex={-1}>
            {children}
          </main>
          <footer className="footer">
            Chain {config.chainId} · ContentAccess <code>{config.contracts.ContentAccess}</code>
          </footer>
          </PlayerProvider>
        </Providers>
      </body>
    </html>
  );
}
