/**
 * The desktop app's host, simulated in the browser (not a spec file): the page's WebSocket to `netloom
 * serve` is routed through Playwright, which answers the host methods the way electron/desktop-host.ts
 * does (hostInfo says desktop with native dialogs, pickPath answers what the test queued, setAppState and
 * closeWindow are recorded) and passes every other call to the real engine. `command()` sends app.command
 * events as the main process does (menu items, files to open, the close request). The Electron binary
 * cannot run here: this is how the renderer's desktop behaviour is tested in Chromium.
 */
import type { Page, WebSocketRoute } from '@playwright/test';
import type { AppStateDto, HostInfoDto } from '../../engine/contract/api.js';

export interface PickRequest {
  mode: 'open' | 'save' | 'folder';
  purpose: string;
  defaultPath?: string;
}

export interface FakeDesktop {
  /** every setAppState the page sent, in order */
  states: AppStateDto[];
  /** every pickPath the page asked for, in order */
  picks: PickRequest[];
  /** how many times the page called closeWindow to close */
  closes: number;
  /** how many times the page answered a close request by keeping the window (closeWindow {cancel: true}) */
  cancels: number;
  /** the next pickPath answers with this path (null: the user cancelled) */
  answerNextPick(path: string | null): void;
  /** sends app.command to the page */
  command(command: string, path?: string): void;
  /** the latest AppState */
  last(): AppStateDto | undefined;
}

export async function fakeDesktop(page: Page, home: string): Promise<FakeDesktop> {
  const info: HostInfoDto = { kind: 'desktop', platform: process.platform, home, nativeDialogs: true };
  let page2client: WebSocketRoute | null = null;
  const picks: PickRequest[] = [];
  const pickAnswers: (string | null)[] = [];
  const fake: FakeDesktop = {
    states: [],
    picks,
    closes: 0,
    cancels: 0,
    answerNextPick: (p) => void pickAnswers.push(p),
    command(command, path) {
      if (!page2client) throw new Error('the page has not connected yet');
      page2client.send(JSON.stringify({ event: { type: 'app.command', command, ...(path !== undefined ? { path } : {}) } }));
    },
    last: () => fake.states.at(-1),
  };
  await page.routeWebSocket(/\/api\?/, (ws) => {
    page2client = ws;
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      const req = JSON.parse(String(message)) as { id: number; method: string; params: unknown };
      const answer = (result: unknown) => ws.send(JSON.stringify({ id: req.id, result }));
      switch (req.method) {
        case 'hostInfo':
          return answer(info);
        case 'setAppState':
          fake.states.push(req.params as AppStateDto);
          return answer({});
        case 'closeWindow':
          if ((req.params as { cancel?: boolean }).cancel) fake.cancels++;
          else fake.closes++;
          return answer({});
        case 'pickPath':
          picks.push(req.params as PickRequest);
          return answer({ path: pickAnswers.length ? pickAnswers.shift()! : null });
        default:
          server.send(message);
      }
    });
    server.onMessage((message) => ws.send(message));
  });
  return fake;
}
