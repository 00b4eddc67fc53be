import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { tokenStore } from './auth/tokenStore';
import './styles/base.css';
import './styles/reactAria';
import './app/app.css';
import './app/desk.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App tokens={tokenStore} />
  </StrictMode>,
);
