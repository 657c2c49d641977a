/** Renderer entry: one engine client for the app's lifetime, then the app. */
import './zodSetup';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles/app.css';
import { createEngineClient } from './api/client';
import { App } from './App';

const client = createEngineClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
